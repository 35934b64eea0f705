import { writeCorpus } from "../bench/sop-corpus.ts";
await writeCorpus(process.argv[2]!, Number(process.argv[3]));
