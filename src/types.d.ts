// Bun imports these as text (`with { type: "text" }`), which embeds them in the binary.
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.toml" {
  const text: string;
  export default text;
}
// A file embedded as is (`with { type: "file" }`): the import is its path, readable with Bun.file().
declare module "*.asset" {
  const path: string;
  export default path;
}
