import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchResult } from '../BenchResult.ts';
import { renderCharts } from './renderCharts.ts';
import { writeReport } from './writeReport.ts';

/** Where a run's files went. */
export interface OutputFiles {
  json: string;
  markdown: string;
  charts: string[];
  latest: string | null;
}

/**
 * Writes `<outDir>/<stamp>.json`, `<outDir>/<stamp>.md` and the SVG charts in `<outDir>/<stamp>/`;
 * with `latest`, also `<outDir>/latest.md`, `latest.json` and the charts again in `<outDir>/latest/`,
 * so a README can embed `bench/results/latest/<chart>.svg` and always show the newest run.
 */
export async function writeOutputs(result: BenchResult, options: { outDir: string; latest: boolean }): Promise<OutputFiles> {
  const stamp = result.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const chartDir = join(options.outDir, stamp);
  await mkdir(chartDir, { recursive: true });
  const charts = await renderCharts(result);
  for (const chart of charts) await writeFile(join(chartDir, chart.file), chart.svg);
  const json = join(options.outDir, `${stamp}.json`);
  const markdown = join(options.outDir, `${stamp}.md`);
  await writeFile(json, `${JSON.stringify(result, null, 1)}\n`);
  await writeFile(markdown, writeReport(result, charts, stamp));
  let latest: string | null = null;
  if (options.latest) {
    const latestDir = join(options.outDir, 'latest');
    await rm(latestDir, { recursive: true, force: true });
    await mkdir(latestDir, { recursive: true });
    for (const chart of charts) await writeFile(join(latestDir, chart.file), chart.svg);
    latest = join(options.outDir, 'latest.md');
    await writeFile(latest, writeReport(result, charts, 'latest'));
    await copyFile(json, join(options.outDir, 'latest.json'));
  }
  return { json, markdown, charts: charts.map((c) => join(chartDir, c.file)), latest };
}
