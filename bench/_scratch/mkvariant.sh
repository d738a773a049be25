#!/bin/sh
# mkvariant.sh <from> <to>: copies wire<from> to wire<to> and gen<from>.ts to gen<to>.ts (pointing at wire<to>)
set -e
rm -rf wire$2 && cp -r wire$1 wire$2
sed -e "s#\"./wire$1/index.js\"#\"./wire$2/index.js\"#" gen$1.ts > gen$2.ts
