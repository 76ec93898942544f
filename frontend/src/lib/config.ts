// UI tunables. Tests set armDelayMs to 0.
export const uiConfig = {
  /** Decision buttons and shortcuts stay disabled this long after a card appears,
   * so a keystroke meant for another window cannot approve a request. */
  armDelayMs: 600,
  /** Characters of a string shown before folding. */
  foldChars: 2048,
  /** Further characters revealed per "show more". */
  moreChars: 32768,
  /** Children of an object/array shown before "show more". */
  foldItems: 100,
};
