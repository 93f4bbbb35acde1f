"""Python parser baseline for bench/lint.bench.ts (npm run bench).

libcst (TorchFix's parser) when it is installed; it is not installable here (not in Debian, no
PyPI), so also two stand-ins: CPython's own parser (ast.parse, C code) and, when installed, parso
(pure Python, Debian's python3-parso).

    lint_parse_baseline.py --files LIST --filter OK_LIST
        keep the files of LIST (one path a line) that decode as UTF-8 and that ast.parse accepts;
        write them to OK_LIST; print JSON {"kept", "skipped": [{"file", "reason"}]}
    lint_parse_baseline.py --files LIST --parser ast|parso|libcst --repeat N
        print JSON {"parser", "version", "python", "files", "parse_s": [...], "read_parse_s": [...]}:
        seconds for the whole list, per repetition; parse_s times only the parse calls over texts
        already in memory, read_parse_s times reading (bytes, UTF-8 decode) and parsing.
        A parser that is not installed prints {"parser", "missing": reason} and exits 0.
"""

import argparse
import ast
import gc
import json
import sys
import time


def read_list(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def do_filter(files, out_path):
    kept, skipped = [], []
    for path in files:
        try:
            text = read_text(path)
        except (OSError, UnicodeDecodeError) as e:
            skipped.append({"file": path, "reason": f"read/decode: {type(e).__name__}: {e}"})
            continue
        try:
            ast.parse(text, filename=path)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            skipped.append({"file": path, "reason": f"ast.parse: {type(e).__name__}: {e}"})
            continue
        kept.append(path)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("".join(p + "\n" for p in kept))
    return {"kept": len(kept), "skipped": skipped}


def make_parser(name):
    """(parse(text, path), version) or a reason string when the parser is missing."""
    if name == "ast":
        return (lambda text, path: ast.parse(text, filename=path)), sys.version.split()[0]
    if name == "parso":
        try:
            import parso
        except ImportError as e:
            return f"not installed ({e}); Debian: apt-get install python3-parso"
        grammar = parso.load_grammar()  # loaded once, outside the timings
        # cache=False is parso's default; spelled out so no pickle cache is read or written.
        return (lambda text, path: grammar.parse(text, path=None, cache=False)), parso.__version__
    if name == "libcst":
        try:
            import libcst
        except ImportError as e:
            return f"not installed ({e}); pip install libcst"
        version = getattr(libcst, "__version__", None) or _dist_version("libcst")
        return (lambda text, path: libcst.parse_module(text)), version
    raise SystemExit(f"unknown parser {name}")


def _dist_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001 - a version is only a label here
        return "?"


def time_parser(files, name, repeat):
    made = make_parser(name)
    if isinstance(made, str):
        return {"parser": name, "missing": made}
    parse, version = made
    texts = [read_text(p) for p in files]
    # Warm-up on one file (first-call costs: imports, caches), not counted.
    if texts:
        parse(texts[0], files[0])
    parse_s, read_parse_s = [], []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for text, path in zip(texts, files):
            parse(text, path)
        parse_s.append(time.perf_counter() - t0)
        gc.collect()
        t0 = time.perf_counter()
        for path in files:
            parse(read_text(path), path)
        read_parse_s.append(time.perf_counter() - t0)
    return {
        "parser": name,
        "version": version,
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "files": len(files),
        "parse_s": parse_s,
        "read_parse_s": read_parse_s,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", required=True)
    ap.add_argument("--filter")
    ap.add_argument("--parser", choices=["ast", "parso", "libcst"])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    # Deeply nested generated code must not stop the run; the same limit for filter and timing.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    files = read_list(a.files)
    if a.filter:
        out = do_filter(files, a.filter)
    elif a.parser:
        out = time_parser(files, a.parser, a.repeat)
    else:
        raise SystemExit("give --filter OUT or --parser NAME")
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
