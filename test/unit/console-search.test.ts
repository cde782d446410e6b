/** The console's search box: what a text names, as the API would look it up. */
import { expect, test } from "bun:test";
import { classify } from "../../console/search-text";

test("a number in any usual writing opens its contact; a user id as given; a wamid its message; anything else searches events", () => {
  for (const written of ["16505551234", "+1 (650) 555-1234", "+1.650.555.1234", "1/650/555/1234", "1-650-555-1234"]) {
    expect({ written, to: classify(written) }).toEqual({ written, to: { route: "contact", value: "16505551234" } });
  }
  for (const id of ["US.13491208655302741918", "US.ENT.11815799212886844830", "user.9373795779eb4a2c"]) expect(classify(id)).toEqual({ route: "contact", value: id });
  expect(classify("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=")).toMatchObject({ route: "message" });
  expect(classify("order shipped")).toBeNull();
});
