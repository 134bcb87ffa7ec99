// A history-API router: same-origin links change the page without a reload. Django (`make run`)
// and Vite (`make storefront`) both answer index.html for these paths, so a reload or a link from
// an email (password reset, payment success) opens the right page directly.

export type Page = (params: Record<string, string>, query: URLSearchParams) => Promise<Node> | Node;

const routes: Array<{ pattern: RegExp; keys: string[]; page: Page }> = [];
let render: (node: Promise<Node> | Node) => void = () => undefined;

export function route(path: string, page: Page): void {
  const keys: string[] = [];
  const pattern = new RegExp(`^${path.replace(/:(\w+)/g, (_, key: string) => (keys.push(key), "([^/]+)"))}/?$`);
  routes.push({ pattern, keys, page });
}

export function navigate(url: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  dispatch();
}

export function dispatch(): void {
  const { pathname, search } = window.location;
  for (const { pattern, keys, page } of routes) {
    const match = pattern.exec(pathname);
    if (!match) continue;
    const params = Object.fromEntries(keys.map((key, i) => [key, decodeURIComponent(match[i + 1] ?? "")]));
    render(page(params, new URLSearchParams(search)));
    return;
  }
  navigate("/", { replace: true });
}

export function startRouter(renderer: typeof render): void {
  render = renderer;
  window.addEventListener("popstate", dispatch);
  document.addEventListener("click", (event) => {
    const link = (event.target as Element | null)?.closest("a");
    if (!link || link.target || link.origin !== window.location.origin || event.metaKey || event.ctrlKey || event.shiftKey) return;
    if (link.pathname.startsWith("/api/") || link.pathname.startsWith("/admin/")) return;
    event.preventDefault();
    navigate(link.pathname + link.search);
  });
  dispatch();
}
