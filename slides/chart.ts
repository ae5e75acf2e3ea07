/**
 * The "misc" slide's picture: the talk showed a screenshot of Tornado's GitHub activity
 * (lost); this draws the real history instead, from assets/tornado-commits-2009-2011.json
 * (git history of tornadoweb/tornado, Sep 2009 – Oct 2011), with its release tags.
 *
 * Loaded on demand (dynamic import) when the slide is near, so chart.js never weighs on the
 * first slide. It draws without animation in print mode so the PDF gets the finished chart.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type Plugin,
} from "chart.js";
import history from "../assets/tornado-commits-2009-2011.json";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

export interface CommitHistory {
  months: { month: string; commits: number; non_merge_commits: number; authors: number }[];
  tags: { tag: string; date: string; commit: string }[];
  total_commits: number;
}

/** Month ("2010-07") of a tag's date, taken in UTC like the monthly buckets. */
export function tagMonth(date: string): string {
  return new Date(date).toISOString().slice(0, 7);
}

/** Tags grouped by month: a month with several releases gets one marker, labelled with all. */
export function releasesByMonth(data: CommitHistory): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of data.tags) {
    const month = tagMonth(t.date);
    out.set(month, [...(out.get(month) ?? []), t.tag]);
  }
  return out;
}

const ink = "#2b2b2b";
const accent = "#d9480f";
const calm = "#1f6f8b";

/**
 * Place labels (centre x, width) in rows, each in the first row where it overlaps nothing;
 * returns the row of each label. Greedy, left to right, like a street of shop signs.
 */
export function stackLabels(labels: { x: number; width: number }[], gap = 6): number[] {
  const rowsEnd: number[] = [];
  return labels.map(({ x, width }) => {
    const left = x - width / 2;
    let row = rowsEnd.findIndex((end) => end + gap <= left);
    if (row < 0) row = rowsEnd.length;
    rowsEnd[row] = left + width;
    return row;
  });
}

/** Rows of release labels above the bars (the chart's top padding makes room for them). */
const labelRows = 3;

function releaseMarkers(labels: string[], releases: Map<string, string[]>, f: (px: number) => number, short: boolean): Plugin<"bar"> {
  return {
    id: "releaseMarkers",
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      const x = scales.x!;
      ctx.save();
      ctx.font = `600 ${f(16)}px system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif`;
      ctx.fillStyle = ink;
      ctx.strokeStyle = accent;
      ctx.setLineDash([5, 4]);
      ctx.lineWidth = 1.5;
      const marks: { x: number; width: number; text: string }[] = [];
      for (const [month, tags] of releases) {
        const index = labels.indexOf(month);
        if (index < 0) continue;
        const px = x.getPixelForValue(index);
        ctx.beginPath();
        ctx.moveTo(px, chartArea.top - 4);
        ctx.lineTo(px, chartArea.bottom);
        ctx.stroke();
        // Narrow charts name only the x.y.0 releases; every release keeps its line.
        const named = short ? tags.filter((t) => /^v\d+\.\d+\.0$/.test(t)).map((t) => t.replace(/\.0$/, "")) : tags;
        if (named.length === 0) continue;
        const text = named.join(" ");
        marks.push({ x: px, width: ctx.measureText(text).width, text });
      }
      const rows = stackLabels(marks);
      marks.forEach((mark, i) => {
        const left = Math.min(Math.max(mark.x - mark.width / 2, 0), chart.width - mark.width);
        const row = Math.min(rows[i]!, labelRows - 1);
        ctx.fillText(mark.text, left, chartArea.top - f(52) + row * f(18));
      });
      ctx.restore();
    },
  };
}

/** Draw the chart named by `figure.dataset.chart` into the figure's canvas. */
export async function drawChart(figure: HTMLElement, options: { animate: boolean; fontScale?: number }): Promise<Chart> {
  // Type sizes in slide pixels; phones show slides smaller, so they ask for larger type.
  const f = (px: number) => Math.round(px * (options.fontScale ?? 1));
  const narrow = (options.fontScale ?? 1) > 1;
  if (figure.dataset.chart !== "commits") throw new Error(`unknown chart ${JSON.stringify(figure.dataset.chart)}`);
  const canvas = figure.querySelector("canvas");
  if (!canvas) throw new Error("chart figure has no canvas");
  const data = history as CommitHistory;
  const labels = data.months.map((m) => m.month);
  const releases = releasesByMonth(data);
  const chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: [
        {
          type: "bar",
          label: "commits per month",
          data: data.months.map((m) => m.commits),
          backgroundColor: calm,
          yAxisID: "y",
          order: 2,
        },
        {
          type: "line",
          label: "authors per month",
          data: data.months.map((m) => m.authors),
          borderColor: accent,
          backgroundColor: accent,
          pointRadius: 2,
          borderWidth: 2,
          yAxisID: "authors",
          order: 1,
        } as never,
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      devicePixelRatio: Math.max(2, globalThis.devicePixelRatio || 1),
      animation: options.animate ? { duration: 600 } : false,
      layout: { padding: { top: f(62) } },
      plugins: {
        legend: { position: "bottom", labels: { color: ink, font: { size: f(17) } } },
        tooltip: { enabled: true },
      },
      scales: {
        x: {
          ticks: {
            color: ink,
            autoSkip: false,
            maxRotation: 0,
            font: { size: f(16) },
            callback: (_value, index) => {
              const month = labels[index] ?? "";
              // Years at January (and at the start, when there is room for it), a dot at July.
              if (month.endsWith("-01") || (index === 0 && !narrow)) return month.slice(0, 4);
              return month.endsWith("-07") ? "·" : "";
            },
          },
          grid: { display: false },
        },
        y: {
          beginAtZero: true,
          title: { display: true, text: "commits", color: ink, font: { size: f(16) } },
          ticks: { color: ink, font: { size: f(15) } },
        },
        authors: {
          position: "right",
          beginAtZero: true,
          title: { display: true, text: "authors", color: ink, font: { size: f(16) } },
          ticks: { color: ink, font: { size: f(15) } },
          grid: { display: false },
        },
      },
    },
    plugins: [releaseMarkers(labels, releases, f, narrow) as Plugin],
  });
  return chart;
}
