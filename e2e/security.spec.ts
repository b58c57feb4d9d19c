/**
 * Issue 7, security and privacy: images never leave the browser; the production build runs under
 * a Content-Security-Policy (no inline script, no eval) with cross-origin isolation, and threaded
 * wasm still starts under it; model URLs are https or same-origin only.
 */
import { test, expect, type Request } from '@playwright/test';
import { chooseFile, downloads, dropFile, figure, openApp, photo, waitForFusion, watchConsole } from './helpers';

// the empty state shows the bundled samples' thumbnails (public/samples): the app's own files
const SAMPLE_THUMB = /^\/samples\/[\w-]+\.thumb\.jpg$/;

interface Seen {
  method: string;
  url: string;
  body: number;
  type: string;
}

test('a whole session sends nothing: only GETs of the app’s own assets and model files, no request bodies', async ({ page, context, baseURL }) => {
  test.setTimeout(150_000);
  const consoleWatch = watchConsole(page);
  const seen: Seen[] = [];
  // the context sees the page's and its workers' requests
  context.on('request', (r: Request) => seen.push({ method: r.method(), url: r.url(), body: r.postDataBuffer()?.length ?? 0, type: r.resourceType() }));
  await openApp(page);
  await dropFile(page, photo('dog.jpg'));
  await waitForFusion(page);
  await chooseFile(page, photo('kite.jpg'));
  await waitForFusion(page);
  await downloads(page, 1, () => figure(page, 'Fusion-CAM').getByRole('button', { name: 'Export PNG' }).click());
  await downloads(page, 1, () => page.getByRole('button', { name: 'Export all' }).click());

  const origin = new URL(baseURL!).origin;
  expect(seen.length).toBeGreaterThan(5);
  const offenders = seen.filter((r) => {
    if (r.url.startsWith('blob:') || r.url.startsWith('data:')) return r.method !== 'GET';
    const u = new URL(r.url);
    const ownAsset = u.pathname === '/' || u.pathname === '/index.html' || u.pathname === '/favicon.ico' || u.pathname.startsWith('/assets/') || SAMPLE_THUMB.test(u.pathname);
    const modelFile = u.pathname.startsWith('/models/mobilenet_v1_0.25_224/') || u.pathname.startsWith('/labels/');
    return r.method !== 'GET' || r.body > 0 || u.origin !== origin || !(ownAsset || modelFile);
  });
  expect(offenders, JSON.stringify(offenders, null, 1)).toEqual([]);
  // the photos were never requested by URL either (they were dropped / chosen as files)
  expect(seen.filter((r) => /dog|kite|\.jpe?g/i.test(r.url) && !SAMPLE_THUMB.test(new URL(r.url).pathname))).toEqual([]);
  consoleWatch.assertClean();
});

test('the production server sends CSP, COOP and COEP; threaded wasm starts under them with no violation', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text().slice(0, 300));
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`Refused to load (CSP ${e.violatedDirective}) ${e.blockedURI}`));
  });
  const consoleWatch = watchConsole(page);
  const res = await page.goto('/?model=mobilenet_v1_0.25_224&backend=wasm', { waitUntil: 'commit' });
  const h = res!.headers();
  expect(h['cross-origin-opener-policy']).toBe('same-origin');
  expect(h['cross-origin-embedder-policy']).toBe('require-corp');
  const policy = h['content-security-policy'];
  expect(policy).toBeTruthy();
  const directives = new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  const scriptSrc = directives.get('script-src')!;
  expect(scriptSrc).toContain("'self'");
  expect(scriptSrc).not.toContain("'unsafe-inline'");
  expect(scriptSrc).not.toContain("'unsafe-eval'");
  expect(directives.get('object-src')).toEqual(["'none'"]);
  // the same policy is in the page itself, for static hosts that cannot set headers
  const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(meta).toContain("script-src 'self' 'wasm-unsafe-eval' blob:");
  // a hashed asset and the worker script carry the headers too (workers take their policy from their own response)
  const asset = await page.request.get('/favicon.ico');
  expect(asset.headers()['content-security-policy']).toBe(policy);

  await expect(page.getByText('Model ready')).toBeVisible({ timeout: 60_000 });
  expect(await page.evaluate(() => (window as unknown as { __fusionCam: { crossOriginIsolated: boolean } }).__fusionCam.crossOriginIsolated)).toBe(true);
  // threaded wasm (pthread workers from blob: URLs) started: the badge names the thread count
  await expect(page.getByTestId('backend-in-use')).toHaveText(/running on wasm · \d+ thread/);
  await chooseFile(page, photo('dog.jpg'));
  await waitForFusion(page);

  // the policy is enforced: a same-origin script may run but not eval, and injected inline script does not run
  // (DevTools-protocol evaluation is exempt from CSP, so the eval probe is a script file the page loads)
  await page.route('**/assets/__csp-probe.js', (route) =>
    route.fulfill({
      contentType: 'text/javascript',
      body: "try { window.__evalRan = eval('true'); } catch (e) { window.__evalRan = false; } try { window.__fnRan = new Function('return true')(); } catch (e) { window.__fnRan = false; } window.__probeDone = true;",
    }),
  );
  const probe = await page.evaluate(async () => {
    const w = window as unknown as { __evalRan?: boolean; __fnRan?: boolean; __probeDone?: boolean; __inlineRan?: boolean };
    await new Promise<void>((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/assets/__csp-probe.js';
      s.onload = () => resolve();
      s.onerror = () => reject(new Error('probe not loaded'));
      document.head.appendChild(s);
    });
    const inline = document.createElement('script');
    inline.textContent = 'window.__inlineRan = true';
    document.body.appendChild(inline);
    return { probeDone: w.__probeDone === true, evalRan: w.__evalRan, fnRan: w.__fnRan, inlineRan: w.__inlineRan === true };
  });
  expect(probe).toEqual({ probeDone: true, evalRan: false, fnRan: false, inlineRan: false });
  // the listener works (the probes were reported), and only the probes were refused
  expect(violations.length).toBeGreaterThan(0);
  expect(violations.filter((v) => !/eval|inline|script-src/i.test(v))).toEqual([]);
  expect(consoleWatch.errors.filter((e) => !/eval|inline|script-src/i.test(e))).toEqual([]);
});

test('a model URL that is plain http on another host is refused before any request', async ({ page, context }) => {
  const urls: string[] = [];
  context.on('request', (r) => urls.push(r.url()));
  await page.goto('/?model=mobilenet_v1_0.25_224&backend=wasm&models=http://models.example.test/', { waitUntil: 'commit' });
  await expect(page.getByRole('alert').filter({ hasText: /only over https or from this site/ })).toBeVisible({ timeout: 30_000 });
  expect(urls.filter((u) => new URL(u).hostname.endsWith('example.test'))).toEqual([]);
});
