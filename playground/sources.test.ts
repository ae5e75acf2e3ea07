import { afterEach, describe, expect, it, vi } from "vitest";
import { Sources } from "./sources.js";

const catalog = { hello: { name: "hello", main: "hello.ts", files: { "hello.ts": "talk", "templates/x.html": "t" } } };

class MemoryStorage {
  data = new Map<string, string>();
  getItem = (k: string) => this.data.get(k) ?? null;
  setItem = (k: string, v: string) => void this.data.set(k, v);
  removeItem = (k: string) => void this.data.delete(k);
}

afterEach(() => vi.unstubAllGlobals());

describe("Sources", () => {
  it("keeps edits across instances (a reload) and resets to the talk's text", () => {
    const store = new MemoryStorage();
    vi.stubGlobal("localStorage", store);
    const a = new Sources(catalog);
    a.set("hello", "hello.ts", "edited");
    expect(new Sources(catalog).text("hello")).toBe("edited");
    expect(new Sources(catalog).program("hello")).toEqual({ name: "hello", main: "hello.ts", files: { "hello.ts": "edited", "templates/x.html": "t" } });
    expect(a.edited("hello")).toBe(true);
    expect(a.reset("hello")).toBe("talk");
    expect(store.data.size).toBe(0);
    expect(new Sources(catalog).text("hello")).toBe("talk");
  });

  it("still holds edits for the page when storage throws", () => {
    vi.stubGlobal("localStorage", { getItem: () => null, setItem: () => { throw new Error("quota"); }, removeItem: () => {} });
    const s = new Sources(catalog);
    s.set("hello", "hello.ts", "mine");
    expect(s.text("hello")).toBe("mine");
    expect(() => s.text("nope")).toThrow(/no example named "nope"/);
  });
});
