/** An inbox row claimed as a job: the webhook as received, and how often it was tried. */
export interface InboxJob {
  id: number;
  body: Uint8Array;
  parseable: number;
  received_at: number;
  attempts: number;
  last_error: string | null;
  /** Events earlier runs stored from it (a job processed over several passes, cut short by a restart). */
  progress: number;
}
