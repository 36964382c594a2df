/** Int32 slots of the metronome's shared memory. */
export const I_GEN = 0; // bumped (with a notify) to wake the metronome early: start and stop
export const I_STOP = 1;
export const I_POSTED = 2; // wake-ups sent (metronome)
export const I_SEEN = 3; // wake-ups handled (attack thread)
export const I_STARTED = 4;
/** Float64 slots, from byte 32. */
export const F_OFFSET = 32;
export const F_NEXT = 0; // next request index the attack thread has not sent (attack thread)
export const F_SHIFT = 1; // ns from the metronome's anchor to the attack clock's offset 0
