/**
 * Notices about a phone number (quality, name, security, username) name it by its display
 * number only, while hooks filter by `phone_number_id` (and the events API by either).
 * The id is learned from the events that carry both (every messages webhook's metadata),
 * seeded at start from the newest stored events, so such a notice reaches the hooks of
 * its number and is found under its id. Before any event of the number is seen, none.
 */
import type { NormalizedEvent } from "../whatsapp/normalize";
import { displayDigits as digitsOf } from "../whatsapp/phone";

export class PhoneNumberBook {
  readonly #ids = new Map<string, string>();
  /** The last pairing seen, as written: every event of a busy number repeats it, and is one lookup. */
  readonly #asWritten = new Map<string, string>();

  /** Pairs oldest first: the newest pairing of a display number wins. */
  learnAll(pairs: readonly { display: string; id: string }[]) {
    for (const { display, id } of pairs) this.#ids.set(digitsOf(display), id);
  }

  /** Learns from an event that carries both; fills in the id of one that has only the display number. */
  see(event: NormalizedEvent) {
    const display = event.displayPhoneNumber;
    if (display === null) return;
    const id = event.phoneNumberId;
    if (id === null) event.phoneNumberId = this.#ids.get(digitsOf(display)) ?? null;
    else if (this.#asWritten.get(display) !== id) {
      this.#asWritten.set(display, id);
      this.#ids.set(digitsOf(display), id);
    }
  }
}
