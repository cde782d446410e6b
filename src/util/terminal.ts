/**
 * Text from stored data on an operator's terminal (tail, stats): what Meta relays can
 * hold escape sequences that would clear the screen, retitle the window or forge a line.
 * C0, DEL, C1, line and paragraph separators, bidi overrides and isolates are shown as
 * \u escapes, never obeyed.
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export const escapeControls = (s: string) => s.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
