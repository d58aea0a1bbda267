/**
 * An OP: typed inputs and outputs declared once (zod schemas for parameters, `artifact()` for
 * files), checked before and after `execute`. `npm run docs` puts them in the README's table.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { artifact, defineOp, param } from "@opflow/core";

export const greet = defineOp({
  name: "greet",
  description: "Greets someone and writes a greeting card.",
  inputs: {
    name: param(z.string().min(1), { description: "whom to greet" }),
    times: param(z.number().int().positive(), { default: 1, description: "how many greetings" }),
    style: param(z.enum(["plain", "loud"]), { default: "plain" }),
  },
  outputs: {
    greeting: param(z.string()),
    card: artifact({ description: "the greeting as a text file" }),
  },
  async execute({ name, times, style }, { workdir }) {
    const one = style === "loud" ? `HELLO, ${name.toUpperCase()}!` : `Hello, ${name}!`;
    const greeting = Array.from({ length: times }, () => one).join(" ");
    const card = path.join(workdir, "card.txt");
    await fs.writeFile(card, `${greeting}\n`);
    return { greeting, card };
  },
});
