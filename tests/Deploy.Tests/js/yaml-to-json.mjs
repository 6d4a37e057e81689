// node yaml-to-json.mjs <file.yaml>: prints the documents as one JSON array.
import {parseYamlDocuments} from './tools.mjs';
process.stdout.write(JSON.stringify(parseYamlDocuments(process.argv[2])));
