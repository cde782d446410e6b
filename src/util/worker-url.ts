/**
 * Where to load a Worker from, given its path under src/. Worker files are extra
 * build entrypoints (see Makefile ENTRYPOINTS): inside the compiled binary they sit
 * in Bun's embedded filesystem relative to src/, and are loaded by that relative
 * path; run from source they are plain files next to this one's parent folder.
 */
export function workerUrl(pathUnderSrc: string): string {
  if (import.meta.url.includes("/$bunfs/")) return `./${pathUnderSrc}`;
  return new URL(`../${pathUnderSrc}`, import.meta.url).href;
}
