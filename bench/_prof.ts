import { inProcess } from "./processing-in-process";
const r = await inProcess(Number(process.env.N ?? 40000), Number(process.env.R ?? 2));
console.log(JSON.stringify(r));
