export { main } from "./bin.js";
export { NODE_FLAGS } from "./node-flags.js";
export { FLOTILLA_BIN, flotillaArgv, lastJsonLine, runFlotilla, type FlotillaResult, type RunFlotillaOptions } from "./run-flotilla.js";
