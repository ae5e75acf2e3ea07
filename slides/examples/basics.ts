// The basics: the event loop under Tornado, as the talk's pseudo-code.
// Illustrative, NOT runnable: OS_register / OS_getEvents stand for epoll, kqueue
// or select, and callbackFor for the loop's table of handlers.
declare const socketFd: number, READ: number;
declare function OS_register(fd: number, events: number): void;
declare function OS_getEvents(): [fd: number, eventType: number][];
declare function callbackFor(fd: number, eventType: number): () => void;

OS_register(socketFd, READ);
// ...
while (true) {
  const events = OS_getEvents(); // epoll, select...
  for (const [fd, eventType] of events) {
    const fn = callbackFor(fd, eventType);
    fn();
  }
}
export {};
