#!/usr/bin/env python3
"""Writes tests/golden/<area>/<name>.test for every case in cases.py, with the
expected output (or error) produced by the real Velocity 1.7 engine.

Needs Java and the Debian package `velocity` (1.7-6), which provides
/usr/share/java/velocity.jar. Usage (from crates/vtl):
    python3 tools/oracle/gen_golden.py            # (re)write the cases
    python3 tools/oracle/gen_golden.py --check    # only compare with files
"""
import json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(os.path.dirname(HERE))
CP = ":".join([os.path.join(tempfile.gettempdir(), "vtl-oracle"), "/usr/share/java/velocity.jar",
               "/usr/share/java/commons-collections3.jar", "/usr/share/java/commons-lang.jar"])
SOURCE = "velocity-1.7 (Apache Velocity 1.7 jar, Debian package velocity 1.7-6, run by tools/oracle)"
SOURCE_EMPTY = ("velocity-1.7 + ReferenceInsertionEventHandler mapping null to \"\" "
                "(API Gateway's null rendering, see LocalStack PR #11886), run by tools/oracle")

def main():
    sys.path.insert(0, HERE)
    from cases import C
    out_dir = os.path.join(tempfile.gettempdir(), "vtl-oracle")
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run(["javac", "-cp", "/usr/share/java/velocity.jar", "-d", out_dir,
                    os.path.join(HERE, "VelocityOracle.java")], check=True)
    arr = [{"name": f"{a}/{n}", "template": t, "context": ctx, "null_empty": "null=empty" in o}
           for (a, n, t, ctx, o) in C]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(arr, f)
    res = json.loads(subprocess.run(["java", "-cp", CP, "VelocityOracle", f.name],
                                    capture_output=True, text=True, check=True).stdout)
    check = "--check" in sys.argv
    bad = 0
    for (a, n, t, ctx, o), r in zip(C, res):
        path = os.path.join(CRATE, "tests", "golden", a, n + ".test")
        parts = ["--- source: " + (SOURCE_EMPTY if "null=empty" in o else SOURCE) + "\n"]
        if o:
            parts.append("--- options: " + o + "\n")
        parts.append("--- template\n" + t + "\n")
        if ctx:
            parts.append("--- context\n" + json.dumps(ctx, ensure_ascii=False) + "\n")
        if "output" in r:
            parts.append("--- expected\n" + r["output"] + "\n")
        else:
            # the engines word errors differently: keep only the fact that it fails
            parts.append("--- error\n" + ("parse error" if "Parse" in r["error"] or "Lexical" in r["error"] else "error") + "\n")
            parts.append("")
        text = "".join(parts)
        if check:
            old = open(path, newline="").read() if os.path.exists(path) else None
            if old != text:
                bad += 1
                print("DIFFERS:", path)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", newline="") as fh:
            fh.write(text)
    print(f"{len(C)} cases, {bad} differ" if check else f"wrote {len(C)} cases")

if __name__ == "__main__":
    main()
