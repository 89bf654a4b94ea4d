#!/usr/bin/env bash
# Builds the Python and JavaScript plugins of plugins/python and plugins/js into components
# named python_<plugin>.wasm and js_<plugin>.wasm in OUT_DIR (the directory the suites read
# the Rust components from), with componentize-py and componentize-js. A component is
# rebuilt only when a source it is made of (its plugin, the kit, the WIT world) is newer.
#   plugins/build-components.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1"
mkdir -p "$out"
# pip puts the tool beside the interpreter's scripts, which need not be on PATH.
componentize_py="$(command -v componentize-py ||
    echo "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/componentize-py")"

stale() { # stale OUTPUT SOURCE_DIR... : true when OUTPUT is missing or older than a source
    local output="$1"
    shift
    [ ! -f "$output" ] || [ -n "$(find "$@" wit -newer "$output" -type f \
        -not -path '*/node_modules/*' -not -path '*/__pycache__/*' -print -quit)" ]
}

for plugin in margin glass_area imperial hostile/hostile; do
    name="python_$(basename "$plugin").wasm"
    if stale "$out/$name" "plugins/python/$plugin.py" sdk/python/winfactor_pricing; then
        module="$(basename "$plugin")"
        dir="plugins/python/$(dirname "$plugin")"
        "$componentize_py" -d wit -w pricing-plugin componentize "$module" \
            -p "$dir" -p sdk/python -o "$out/$name" >/dev/null
        echo "built $out/$name"
    fi
done

for plugin in margin glass-area imperial hostile/hostile; do
    name="js_$(basename "$plugin" | tr - _).wasm"
    if stale "$out/$name" "plugins/js/$plugin.js" sdk/js/src sdk/js/build.js; then
        node sdk/js/build.js "plugins/js/$plugin.js" -o "$out/$name" >/dev/null
        echo "built $out/$name"
    fi
done
