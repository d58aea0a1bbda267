/**
 * The six upstream Argo examples of ../shared/argo/examples, re-expressed with opflow's API.
 * Golden tests compile them and compare with the upstream YAML after normalisation.
 */
import { z } from "zod";
import {
  ContainerTemplate,
  DAG,
  ScriptOPTemplate,
  Step,
  Steps,
  Task,
  Workflow,
  argoCondition,
  argoString,
  artifact,
  param,
  rawArgo,
} from "../../src/index.ts";

export function steps(): Workflow {
  const printMessage = new ContainerTemplate({
    name: "print-message",
    image: "busybox",
    inputs: { message: param(z.string()) },
    command: ["echo"],
    args: (io) => [io.parameters.message],
  });
  const main = new Steps({ name: "hello-hello-hello" });
  main.add(new Step("hello1", printMessage, { parameters: { message: "hello1" } }));
  main.add([
    new Step("hello2a", printMessage, { parameters: { message: "hello2a" } }),
    new Step("hello2b", printMessage, { parameters: { message: "hello2b" } }),
  ]);
  return new Workflow({ generateName: "steps-", entrypoint: main });
}

export function dagDiamond(): Workflow {
  const echo = new ContainerTemplate({
    name: "echo",
    image: "busybox",
    inputs: { message: param(z.string()) },
    command: (io) => ["echo", io.parameters.message],
  });
  const diamond = new DAG({ name: "diamond" });
  const A = diamond.add(new Task("A", echo, { parameters: { message: "A" } }));
  const B = diamond.add(new Task("B", echo, { parameters: { message: "B" }, dependencies: [A] }));
  const C = diamond.add(new Task("C", echo, { parameters: { message: "C" }, dependencies: [A] }));
  diamond.add(new Task("D", echo, { parameters: { message: "D" }, dependencies: [B, C] }));
  return new Workflow({ generateName: "dag-diamond-", entrypoint: diamond });
}

export function loopsParamResult(): Workflow {
  const gen = new ScriptOPTemplate({
    name: "gen-number-list",
    image: "python:alpine3.23",
    command: ["python"],
    source: "import json\nimport sys\njson.dump([i for i in range(20, 31)], sys.stdout)\n",
  });
  const sleep = new ContainerTemplate({
    name: "sleep-n-sec",
    image: "alpine:3.23",
    inputs: { seconds: param(z.string()) },
    command: ["sh", "-c"],
    args: (io) => [argoString`echo sleeping for ${io.parameters.seconds} seconds; sleep ${io.parameters.seconds}; echo done`],
  });
  const main = new Steps({ name: "loop-param-result-example" });
  const generate = main.add(new Step("generate", gen));
  main.add(
    new Step("sleep", sleep, {
      withParam: rawArgo<number[]>(`{{steps.${generate.name}.outputs.result}}`),
      parameters: (item) => ({ seconds: argoString`${item}` }),
    }),
  );
  return new Workflow({
    generateName: "loops-param-result-",
    entrypoint: main,
    labels: { "workflows.argoproj.io/no-test": "duration" },
  });
}

export function retryBackoff(): Workflow {
  const t = new ContainerTemplate({
    name: "retry-backoff",
    image: "python:alpine3.23",
    command: ["python", "-c"],
    args: ["import random; import sys; exit_code = random.choice([0, 1, 1]); sys.exit(exit_code)"],
    retry: { limit: 10, on: "failure", backoff: { duration: 1, factor: 2, maxDuration: "1m", cap: 5 } },
  });
  return new Workflow({ generateName: "retry-backoff-", entrypoint: t, labels: { "workflows.argoproj.io/no-test": "duration" } });
}

export function conditionals(): Workflow {
  const argosay = new ContainerTemplate({ name: "argosay", image: "argoproj/argosay:v1", command: ["sh", "-c"], args: ["cowsay hello"] });
  const main = new Steps({ name: "conditional-example", inputs: { "should-print": param(z.string()) } });
  const shouldPrint = main.io.parameters["should-print"];
  main.add([
    new Step("print-hello-govaluate", argosay, { when: argoCondition`${shouldPrint} == true` }),
    new Step("print-hello-expr", argosay, { when: shouldPrint.eq("true") }),
    new Step("print-hello-expr-json", argosay, { when: rawArgo("{{=jsonpath(workflow.parameters.json, '$[0].value') == 'true'}}") }),
  ]);
  return new Workflow({ generateName: "conditional-", entrypoint: main, parameters: { "should-print": "true" } });
}

export function artifactPassing(): Workflow {
  const produce = new ContainerTemplate({
    name: "hello-world-to-file",
    image: "busybox",
    outputs: { "hello-art": artifact() },
    command: ["sh", "-c"],
    args: ["sleep 1; echo hello world | tee /tmp/hello_world.txt"],
    paths: { outputs: { "hello-art": "/tmp/hello_world.txt" } },
  });
  const consume = new ContainerTemplate({
    name: "print-message-from-file",
    image: "busybox",
    inputs: { message: artifact() },
    command: ["sh", "-c"],
    args: ["cat /tmp/message"],
    paths: { inputs: { message: "/tmp/message" } },
  });
  const main = new Steps({ name: "artifact-example" });
  const gen = main.add(new Step("generate-artifact", produce));
  main.add(new Step("consume-artifact", consume, { artifacts: { message: gen.outputs.artifacts["hello-art"] } }));
  return new Workflow({ generateName: "artifact-passing-", entrypoint: main });
}

/** Upstream file name → opflow builder. */
export const upstream: Record<string, () => Workflow> = {
  "steps.yaml": steps,
  "dag-diamond.yaml": dagDiamond,
  "loops-param-result.yaml": loopsParamResult,
  "retry-backoff.yaml": retryBackoff,
  "conditionals.yaml": conditionals,
  "artifact-passing.yaml": artifactPassing,
};
