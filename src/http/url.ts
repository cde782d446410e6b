/**
 * Path and query of a request URL, read as text. `new URL(request.url)` throws when
 * a client sends a malformed Host header (the URL is built from it), and that would
 * turn a bad request into a 500 with a stack trace.
 */
export function queryOf(url: string): URLSearchParams {
  const start = url.indexOf("?");
  if (start === -1) return new URLSearchParams();
  const end = url.indexOf("#", start);
  return new URLSearchParams(url.slice(start + 1, end === -1 ? undefined : end));
}

/**
 * The path as the routes read it, percent-escapes decoded: what a log line shows, so that
 * a person's number written `1%2D650…` is seen, and hashed, like `1-650…`.
 */
export function decodedPathOf(url: string): string {
  const path = pathOf(url);
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export function pathOf(url: string): string {
  const afterScheme = url.indexOf("://");
  const start = afterScheme === -1 ? 0 : url.indexOf("/", afterScheme + 3);
  if (start === -1) return "/";
  const end = url.slice(start).search(/[?#]/);
  return end === -1 ? url.slice(start) : url.slice(start, start + end);
}
