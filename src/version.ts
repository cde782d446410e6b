import pkg from "../package.json" with { type: "json" };

// Injected by `make build` (bun build --define WA_VERSION=...); absent when run from source.
declare const WA_VERSION: string | undefined;

export const VERSION: string = typeof WA_VERSION === "string" ? WA_VERSION : `${pkg.version}-dev`;
