/** Int32 slots of the metronome's shared memory (the Float64 due time follows at byte 16). */
export const SLOT_GEN = 0;
export const SLOT_STOP = 2;
export const SLOT_DUE = 0;
