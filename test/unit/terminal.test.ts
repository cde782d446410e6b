import { expect, test } from "bun:test";
import { escapeControls } from "../../src/util/terminal";

test("escape sequences, carriage returns, line and bidi controls are shown as \\u escapes, never obeyed; text stays", () => {
  expect(escapeControls("x\u001b]0;PWNED\u0007\u001b[2J\u001b[31mRED\r\nFAKE \u202e\u2028 Olá 😀")).toBe("x\\u001b]0;PWNED\\u0007\\u001b[2J\\u001b[31mRED\\u000d\\u000aFAKE \\u202e\\u2028 Olá 😀");
});
