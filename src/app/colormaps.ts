/** The colormaps live in the engine so the app and the CLI draw the same colours. */
export * from '../engine/colormaps';
