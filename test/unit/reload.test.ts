import { expect, test } from "bun:test";
import { parseConfigText } from "../../src/config/load";
import { changedKeys, planReload } from "../../src/config/reload";

const BASE = `[whatsapp]\nverify_token = "vt"\napp_secrets = ["s1"]\n[admin]\ntoken = "0123456789abcdef"\n`;
const parse = (extra = "", base = BASE) => parseConfigText(base + extra, { env: {} });

test("changed keys are dotted leaves; hooks compare as a whole", () => {
  expect(changedKeys({ a: { b: 1, c: [1] } }, { a: { b: 2, c: [1] } })).toEqual(["a.b"]);
  expect(changedKeys({ hooks: [{ name: "x" }] }, { hooks: [{ name: "y" }] })).toEqual(["hooks"]);
  expect(changedKeys({ a: 1 }, { a: 1, b: 2 })).toEqual(["b"]);
});

test("listener, database and docs wait for a restart; the rest applies, and the running values of the former are kept", () => {
  const running = parse();
  const next = parse(`[server]\nlisten = "127.0.0.1:9999"\n[storage]\npath = "other.db"\n[log]\nlevel = "debug"\n`, BASE.replace('"s1"', '"s2"').replace('token = "0123456789abcdef"', 'token = "0123456789abcdef"\ndocs = true'));
  const plan = planReload(running, next);
  expect(plan.needRestart).toEqual(["admin.docs", "server.listen", "storage.path"]);
  expect(plan.applied).toEqual(["log.level", "whatsapp.app_secrets"]);
  expect(plan.config.server.listen).toBe(running.server.listen);
  expect(plan.config.storage.path).toBe(running.storage.path);
  expect(plan.config.admin.docs).toBeUndefined();
  expect(plan.config.whatsapp.app_secrets).toEqual(["s2"]);
});

test("an engine's own restart-only worker keys (PostgreSQL: worker.lease) wait for a restart and keep their running value", () => {
  const running = parse();
  const next = parse(`[worker]\nlease = "2m"\nbatch_size = 50\n`);
  const sqlite = planReload(running, next);
  expect(sqlite.applied).toEqual(["worker.batch_size", "worker.lease"]);
  expect(sqlite.config.worker.lease).toBe("2m");
  const postgres = planReload(running, next, ["lease"]);
  expect(postgres.needRestart).toEqual(["worker.lease"]);
  expect(postgres.applied).toEqual(["worker.batch_size"]);
  expect(postgres.config.worker.lease).toBe(running.worker.lease);
  expect(postgres.config.worker.batch_size).toBe(50);
});
