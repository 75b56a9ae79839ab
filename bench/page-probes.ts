// Functions that run inside the page (passed to page.evaluate): they must be
// self-contained. Each returns milliseconds measured with performance.now().

export interface ProbeArgs {
  url: string;
  count: number;
  /** Authorization set by page code: the no-worker and pass-through baselines. */
  authorization: string | null;
  /** 'no-store' unless told: Chromium then skips the CORS preflight cache too, so CORS probes pass 'default'. */
  cache?: RequestCache;
}

export async function sequential({ url, count, authorization, cache = 'no-store' }: ProbeArgs): Promise<number> {
  const headers: Record<string, string> = authorization ? { authorization } : {};
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const res = await fetch(url, { headers, cache });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    await res.arrayBuffer();
  }
  return performance.now() - start;
}

export async function concurrent({ url, count, authorization }: ProbeArgs): Promise<number> {
  const headers: Record<string, string> = authorization ? { authorization } : {};
  const start = performance.now();
  await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await fetch(url, { headers, cache: 'no-store' });
      if (!res.ok) throw new Error(`${url} answered ${res.status}`);
      await res.arrayBuffer();
    }),
  );
  return performance.now() - start;
}

/** Registers a worker script and resolves once it controls the page. */
export async function registerWorker(scriptURL: string): Promise<void> {
  if (navigator.serviceWorker.controller?.scriptURL.endsWith(scriptURL)) return;
  const controlled = new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
  await navigator.serviceWorker.register(scriptURL);
  await controlled;
}

/** Signs in through the broker's message API, as the client does. */
export function brokerLogin(credentials: { username: string; password: string }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (e) => ((e.data as { ok: boolean }).ok ? resolve(e.data) : reject(new Error(JSON.stringify(e.data))));
    navigator.serviceWorker.controller!.postMessage({ type: 'broker:login', credentials }, [channel.port2]);
  });
}
