// Shared bench helpers: latency sampling over loopback and summary figures.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';

export async function listen(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One GET; resolves with the elapsed milliseconds, fails on a non-2xx status. */
export function timedGet(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.get(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`${url} -> ${res.statusCode}`));
        else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      });
    });
    req.on('error', reject);
  });
}

export async function sample(n: number, fn: () => Promise<number>, warmup = 10): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out.sort((a, b) => a - b);
}

/** Runs fn for about `seconds` after `warmup` calls; sorted per-call milliseconds and calls per second. */
export async function timedLoop(seconds: number, fn: () => Promise<unknown>, warmup = 30): Promise<{ ms: number[]; perSecond: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return { ms: ms.sort((a, b) => a - b), perSecond: ms.length / ((performance.now() - t0) / 1000) };
}

export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function summary(name: string, ms: number[], reference?: number[]) {
  const med = quantile(ms, 0.5);
  const p95 = quantile(ms, 0.95);
  const row: Record<string, string> = { name, median_ms: med.toFixed(2), p95_ms: p95.toFixed(2) };
  if (reference) {
    row.median_ratio = (med / quantile(reference, 0.5)).toFixed(1) + 'x';
    row.p95_ratio = (p95 / quantile(reference, 0.95)).toFixed(1) + 'x';
  }
  return row;
}

/** Signs in through the real form and returns the session cookie. */
export async function loginCookie(baseUrl: string, username: string, password: string): Promise<string> {
  const page = await fetch(`${baseUrl}/login`);
  const first = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
  const res = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: first, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, username, password }),
  });
  if (res.status !== 303) throw new Error(`login as ${username} failed: ${res.status}`);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}
