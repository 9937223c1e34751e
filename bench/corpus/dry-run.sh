#!/usr/bin/env bash
# Runs `minipod run --dry-run` on every manifest of a corpus and prints, per manifest,
# "accepted" or "refused" with the lines that refuse it, then the count.
#
#   bench/corpus/dry-run.sh CORPUS_DIR [OBJECTS_FILE]
#
# CORPUS_DIR holds the Pod manifests (*.yaml, *.yml, *.json, in any sub-folder); they are taken
# in path order. OBJECTS_FILE (default: bench/corpus/objects.yaml) holds the ConfigMaps and
# Secrets the pods refer to and is passed beside each manifest, as a user would pass it.
# Needs `npm run build` first; needs no root, and makes nothing on the host (--dry-run).
# bench/corpus/README.md says how the corpus of 80 was assembled.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
minipod="$here/../../bin/minipod"
corpus=${1:?usage: bench/corpus/dry-run.sh CORPUS_DIR [OBJECTS_FILE]}
objects=${2:-$here/objects.yaml}
[[ -d "$corpus" ]] || { echo "dry-run.sh: $corpus: not a directory" >&2; exit 2; }
[[ -f "$objects" ]] || { echo "dry-run.sh: $objects: no such file" >&2; exit 2; }

accepted=0 total=0
while IFS= read -r -d '' manifest; do
  total=$((total + 1))
  name=${manifest#"$corpus"/}
  if output=$("$minipod" run --dry-run "$manifest" "$objects" 2>&1 >/dev/null); then
    accepted=$((accepted + 1))
    echo "accepted  $name"
  else
    echo "refused   $name"
    # Warnings are not why a manifest is refused: print only the error lines.
    grep -v '^minipod: warning: ' <<<"$output" | sed 's/^/          /' || true
  fi
done < <(find "$corpus" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -print0 | sort -z)

echo "$accepted/$total accepted"
