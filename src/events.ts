// Run events for observers (progress, logs, tests). Emitted on the main thread.

export type BatchEvent =
  | {
      type: 'cooldown-opened';
      /** The odd generation of this cooldown. */
      gen: number;
      /** When the main thread saw it open (epoch ms; the opening itself is a little earlier). */
      at: number;
      /** When it is due to end (epoch ms), as first published. */
      until: number;
    }
  | {
      type: 'cooldown-ended';
      gen: number;
      /** When the main thread ended it: epoch ms with sub-ms precision, taken just before the gate opened. */
      at: number;
      /** The in-flight limit the ramp starts from. */
      limit: number;
    };
