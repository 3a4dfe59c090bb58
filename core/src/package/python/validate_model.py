#!/usr/bin/env python3
"""Check an mcp-train deployment package before using it. Needs Python 3.8 or newer, nothing else.

    python3 validate_model.py            checks the folder holding this script
    python3 validate_model.py FOLDER     checks another unpacked package folder

It prints one line per check as it goes:

1. the Python version (3.8 or newer);
2. deployment_manifest.json: valid JSON, package_format "mcp-train-deployment" version 1, and its
   manifest_sha256 (the SHA-256 of the manifest with that field's value replaced by 64 zeros);
3. every file: each one in file_integrity has its size and SHA-256, each one in files exists,
   and no other file is in the folder (__pycache__ folders and *.pyc files aside);
4. only then: loads the model with inference_example.py's ModelInference, which checks that
   model.json, scaler.json and the manifest's inference_config agree;
5. the self-test: scores the manifest's self_test vectors and compares each score and decision
   with the expected ones (within self_test.tolerance) and each verdict.

It exits 0 after a final "PASS ..." line, or 1 after one line "FAIL <file>: <reason>" on standard
error at the first problem. The hashes show that no file was altered or damaged since the package
was built; they are not a signature, so get the package itself from a source you trust.

(This file avoids newer syntax on purpose, so that an old Python reaches the version check.)
"""

from __future__ import print_function

import os
import sys

if __name__ == "__main__":
    # Nothing in the package folder may stand in for a standard module (say, a stray json.py).
    _OWN = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _OWN]
# Importing inference_example.py must not leave __pycache__ behind in the package.
sys.dont_write_bytecode = True

import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402

PACKAGE_FORMAT = "mcp-train-deployment"
PACKAGE_FORMAT_VERSION = 1
MANIFEST = "deployment_manifest.json"
INFERENCE = "inference_example.py"
SELF = "validate_model.py"
MODEL = "model.json"
CHUNK = 1 << 20
# A self-test looser than this proves nothing (as `mcp-train verify`).
MAX_TOLERANCE = 1e-6
HASH_FIELD = re.compile(b'"manifest_sha256": "([0-9A-Fa-f]{64})"')


class Failure(Exception):
    def __init__(self, file, reason):
        Exception.__init__(self, "%s: %s" % (file, reason))
        self.file = file
        self.reason = reason


def ok(message):
    print("ok    " + message)
    sys.stdout.flush()


def short(digest):
    return digest[:12] + "..."


def thousands(n):
    return "{:,}".format(n)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_finite(v):
    """Whether a JSON value is a finite number (an int too large for a float is not)."""
    if not is_number(v):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def reject_duplicate_keys(pairs):
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError("duplicate key %r" % key)
        seen.add(key)
    return dict(pairs)


def check_python():
    if sys.version_info < (3, 8):
        raise Failure(
            "validate_model.py",
            "Python 3.8 or newer is needed, this is %s" % sys.version.split()[0],
        )
    ok("python %s (3.8 or newer needed)" % sys.version.split()[0])


def read_manifest(folder):
    path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(path):
        raise Failure(MANIFEST, "missing: %s is not an unpacked deployment package" % folder)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Failure(MANIFEST, "cannot read: %s" % (e.strerror or e))

    # The hash first, on the raw bytes: any altered byte shows as a mismatch, even one that
    # breaks the JSON.
    found = HASH_FIELD.findall(data)
    if len(found) != 1:
        raise Failure(
            MANIFEST,
            'the text "manifest_sha256": "<64 hex digits>" occurs %d times, not once' % len(found),
        )
    expected = found[0].decode("ascii").lower()
    zeroed = HASH_FIELD.sub(b'"manifest_sha256": "' + b"0" * 64 + b'"', data)
    actual = hashlib.sha256(zeroed).hexdigest()
    if actual != expected:
        raise Failure(
            MANIFEST,
            "manifest_sha256 mismatch (expected %s, found %s)" % (short(expected), short(actual)),
        )

    try:
        manifest = json.loads(data.decode("utf-8"), object_pairs_hook=reject_duplicate_keys)
    except ValueError as e:  # also UnicodeDecodeError
        raise Failure(MANIFEST, "not valid JSON: %s" % e)
    if not isinstance(manifest, dict):
        raise Failure(MANIFEST, "not a JSON object")
    if manifest.get("manifest_sha256") != found[0].decode("ascii"):
        raise Failure(MANIFEST, "manifest_sha256 is not a top-level string field")
    fmt = manifest.get("package_format")
    if fmt != PACKAGE_FORMAT:
        raise Failure(MANIFEST, "package_format is %r, not %r" % (fmt, PACKAGE_FORMAT))
    version = manifest.get("package_format_version")
    if not is_int(version) or version != PACKAGE_FORMAT_VERSION:
        raise Failure(
            MANIFEST,
            "package_format_version is %r; this validator reads version %d"
            % (version, PACKAGE_FORMAT_VERSION),
        )
    ok("%s: %s version %d, manifest_sha256 matches (%s)"
       % (MANIFEST, PACKAGE_FORMAT, version, short(expected)))
    return manifest


def safe_name(name):
    """Whether a listed file name is a plain relative path inside the package."""
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        return False
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def file_lists(manifest):
    files = manifest.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise Failure(MANIFEST, "files is not a list of file names")
    for name in files:
        if not safe_name(name):
            raise Failure(MANIFEST, "files lists %r, which is not a plain relative path" % (name,))
    if len(set(files)) != len(files):
        twice = sorted(set(f for f in files if files.count(f) > 1))
        raise Failure(MANIFEST, "files lists %s twice" % ", ".join(twice))
    if MANIFEST not in files:
        raise Failure(MANIFEST, "files does not list %s itself" % MANIFEST)
    integrity = manifest.get("file_integrity")
    if not isinstance(integrity, dict):
        raise Failure(MANIFEST, "file_integrity is not an object")
    if MANIFEST in integrity:
        raise Failure(MANIFEST, "file_integrity lists the manifest itself")
    for name in sorted(integrity):
        if name not in files:
            raise Failure(MANIFEST, "file_integrity lists %s, which files does not" % name)
        entry = integrity[name]
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        size = entry.get("size_bytes") if isinstance(entry, dict) else None
        if not isinstance(digest, str) or not re.match(r"^[0-9A-Fa-f]{64}$", digest):
            raise Failure(MANIFEST, "file_integrity[%s].sha256 is not 64 hex digits" % name)
        if not is_int(size) or size < 0:
            raise Failure(MANIFEST, "file_integrity[%s].size_bytes is not a size" % name)
    for name in files:
        if name != MANIFEST and name not in integrity:
            raise Failure(MANIFEST, "files lists %s, which file_integrity does not" % name)
    return files, integrity


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(CHUNK)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def check_self_first(folder):
    """When this script is the package's own copy, compare its SHA-256 with the manifest's entry
    before anything else, with literals and code of its own: if a byte of this script is
    altered, then whatever the alteration broke, this check or the later one (``check_self``)
    names the script (or Python does, for a syntax or name error)."""
    me = os.path.realpath(os.path.abspath(__file__))
    if me != os.path.realpath(os.path.join(folder, "validate_model.py")):
        return
    try:
        with open(me, "rb") as f:
            mine = hashlib.sha256(f.read()).hexdigest()
        with open(os.path.join(folder, "deployment_manifest.json"), "rb") as f:
            listing = f.read()
    except (IOError, OSError):
        return  # the checks that follow say what is wrong
    entry = re.search(br'"validate_model\.py": \{\s*"sha256": "([0-9A-Fa-f]{64})"', listing)
    if entry is None:
        return
    listed = entry.group(1).decode("ascii").lower()
    if listed == mine or sum(a != b for a, b in zip(listed, mine)) == 1:
        # Equal; or the manifest's copy of the hash was altered, which its own hash shows.
        return
    raise Failure(os.path.basename(me), "sha256 mismatch (expected %s, found %s)"
                  % (short(listed), short(mine)))


def check_self(folder, integrity):
    """This script, when it is the package's own copy, right after the manifest: if it was
    altered, its other checks cannot be trusted."""
    me = os.path.realpath(os.path.abspath(__file__))
    if me != os.path.realpath(os.path.join(folder, SELF)) or SELF not in integrity:
        return set()
    check_file(folder, SELF, integrity[SELF])
    return {SELF}


def check_file(folder, name, entry):
    path = os.path.join(folder, *name.split("/"))
    if os.path.islink(path):
        raise Failure(name, "is a symbolic link, not a file of the package")
    if not os.path.exists(path):
        raise Failure(name, "missing (listed in %s)" % MANIFEST)
    if not os.path.isfile(path):
        raise Failure(name, "is not a regular file")
    expected_size = entry["size_bytes"]
    expected = entry["sha256"].lower()
    try:
        size = os.path.getsize(path)
        actual = sha256_of(path)
    except OSError as e:
        raise Failure(name, "cannot read: %s" % (e.strerror or e))
    if size != expected_size:
        raise Failure(name, "size mismatch (expected %s bytes, found %s)"
                      % (thousands(expected_size), thousands(size)))
    if actual != expected:
        raise Failure(name, "sha256 mismatch (expected %s, found %s)"
                      % (short(expected), short(actual)))
    ok("%s: %s bytes, sha256 %s" % (name, thousands(size), short(actual)))


def check_files(folder, files, integrity, checked):
    for name in sorted(integrity):
        if name not in checked:
            check_file(folder, name, integrity[name])

    listed = set(files)
    for root, dirs, names in os.walk(folder):
        # Python's own byte-code caches are not part of the package.
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        rel_root = os.path.relpath(root, folder)
        for entry in sorted(dirs) + sorted(names):
            rel = entry if rel_root == os.curdir else os.path.join(rel_root, entry)
            rel = rel.replace(os.sep, "/")
            path = os.path.join(root, entry)
            if entry in dirs and not os.path.islink(path):
                continue  # a real folder: its files are checked when the walk gets there
            if entry.endswith(".pyc") and not os.path.islink(path):
                continue
            if rel not in listed:
                raise Failure(rel, "unexpected file (not listed in %s)" % MANIFEST)
    ok("no files besides the %d listed" % len(files))


def load_inference(folder, integrity):
    """inference_example.py, imported from exactly the bytes whose hash was checked."""
    import importlib.util

    path = os.path.join(folder, INFERENCE)
    if INFERENCE not in integrity:
        raise Failure(MANIFEST, "file_integrity does not list %s" % INFERENCE)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise Failure(INFERENCE, "cannot read: %s" % (e.strerror or e))
    if hashlib.sha256(source).hexdigest() != integrity[INFERENCE]["sha256"].lower():
        raise Failure(INFERENCE, "changed while being checked")
    spec = importlib.util.spec_from_file_location("mcp_train_inference_example", path)
    module = importlib.util.module_from_spec(spec)
    try:
        exec(compile(source, path, "exec", dont_inherit=True), module.__dict__)
    except Exception as e:
        raise Failure(INFERENCE, "cannot be imported: %s: %s" % (type(e).__name__, e))
    for name in ("ModelInference", "PackageError", "FeatureError"):
        if not hasattr(module, name):
            raise Failure(INFERENCE, "defines no %s" % name)
    return module


def load_model(module, folder):
    try:
        model = module.ModelInference(folder)
    except module.PackageError as e:
        raise Failure(e.file, e.reason)
    except Exception as e:
        raise Failure(INFERENCE, "cannot load the model: %s: %s" % (type(e).__name__, e))
    ok("%s: model %s loads (%s, %d features, threshold %r); model.json, scaler.json and "
       "inference_config agree" % (MODEL, model.model_version, model.detector,
                                    len(model.feature_names), model.threshold))
    return model


def self_test(module, model, manifest):
    test = manifest.get("self_test")
    if not isinstance(test, dict):
        raise Failure(MANIFEST, "self_test is not an object")
    tolerance = test.get("tolerance")
    if not is_finite(tolerance) or not 0 <= tolerance <= MAX_TOLERANCE:
        raise Failure(MANIFEST, "self_test.tolerance %r is not a number in [0, %g]"
                      % (tolerance, MAX_TOLERANCE))
    vectors = test.get("vectors")
    if not isinstance(vectors, list) or not vectors:
        raise Failure(MANIFEST, "self_test.vectors is not a non-empty list")
    rows = []
    for i, v in enumerate(vectors):
        where = "self_test.vectors[%d]" % i
        if not isinstance(v, dict) or not isinstance(v.get("features"), dict):
            raise Failure(MANIFEST, "%s has no features object" % where)
        for key in ("score", "decision"):
            if not is_finite(v.get(key)):
                raise Failure(MANIFEST, "%s.%s is not a finite number" % (where, key))
        if not isinstance(v.get("is_anomaly"), bool):
            raise Failure(MANIFEST, "%s.is_anomaly is not true or false" % where)
        rows.append(v["features"])
    try:
        results = model.predict(rows)
    except module.FeatureError as e:
        raise Failure(MANIFEST, "self-test: %s" % e)
    largest = 0.0
    for i, (v, r) in enumerate(zip(vectors, results)):
        for key in ("score", "decision"):
            expected, actual = float(v[key]), r[key]
            diff = abs(actual - expected)
            if not diff <= tolerance:
                raise Failure(
                    MANIFEST,
                    "self-test vector %d: %s %r differs from the expected %r by %.3g "
                    "(tolerance %g)" % (i, key, actual, expected, diff, tolerance),
                )
            largest = max(largest, diff)
        if r["is_anomaly"] != v["is_anomaly"]:
            raise Failure(
                MANIFEST,
                "self-test vector %d: is_anomaly is %s, expected %s"
                % (i, r["is_anomaly"], v["is_anomaly"]),
            )
    ok("self-test: %d vectors, scores and decisions within %g (largest difference %r), "
       "verdicts equal" % (len(vectors), tolerance, largest))
    return len(vectors), largest


def validate(folder):
    check_python()
    check_self_first(folder)
    manifest = read_manifest(folder)
    files, integrity = file_lists(manifest)
    checked = check_self(folder, integrity)
    check_files(folder, files, integrity, checked)
    module = load_inference(folder, integrity)
    model = load_model(module, folder)
    n, largest = self_test(module, model, manifest)
    return "PASS %s: %d files intact, model %s (%s) loads, self-test %d/%d vectors agree " \
           "(largest difference %r)" % (
               os.path.basename(os.path.abspath(folder)), len(integrity) + 1,
               model.model_version, model.detector, n, n, largest)


def main(argv):
    """True when the package passes (or for --help); every other way out is False.

    The call below has no `if __name__ == "__main__"` guard, and no comment line above it: this
    file is a program, and an altered guard, or a comment swallowing the call, must not turn it
    into one that checks nothing and exits 0. The exit status is 0 only when this says True.
    """
    args = argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return True
    if len(args) > 1:
        sys.stderr.write("usage: validate_model.py [PACKAGE_FOLDER]\n")
        return False
    folder = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    if not os.path.isdir(folder):
        name = os.path.basename(folder.rstrip("/\\")) or folder
        sys.stderr.write("FAIL %s: not a folder (unzip the package and check the folder)\n" % name)
        return False
    try:
        print("checking %s" % os.path.abspath(folder))
        try:
            line = validate(folder)
        except Failure as e:
            sys.stdout.flush()
            sys.stderr.write("FAIL %s\n" % e)
            return False
        print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (say, `| head`): stop quietly, and do not claim a pass.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return False
    return True


sys.exit(main(sys.argv) is not True)
