export { main } from "./bin.js";
export { NODE_FLAGS } from "./node-flags.js";
