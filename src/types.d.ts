// Bun imports these as text (`with { type: "text" }`), which embeds them in the binary.
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.toml" {
  const text: string;
  export default text;
}
