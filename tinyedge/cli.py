"""The command line: tinyedge compile | run | inspect | ops | bench.

Every error a user can cause is printed as one line `tinyedge: error: ...`
with a non-zero exit code (see EXIT CODES below); no traceback.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import numpy as np

EXIT_CODES = """exit codes:
  0  success
  1  usage or input error (bad arguments, unreadable file, wrong input shape)
  2  command-line syntax error
  3  the model file is not a valid TFLite flatbuffer
  4  the model uses ops, types or options tinyedge does not support
  5  the model does not fit the target's RAM or flash budget
  6  the C compiler failed
  7  verification against TFLite Micro (or, for bench, the host run) found differing bytes
  8  a needed tool is missing (arm-none-eabi-gcc, qemu-system-arm, gcc)
  9  the firmware did not run to its end under QEMU (timeout, fault, failed invoke)
"""


def _format_bytes(n: int) -> str:
    return f"{n:,} B" if n < 10 * 1024 else f"{n:,} B ({n / 1024:.1f} KiB)"


def _print_summary(report: dict) -> None:
    ops = [layer["op"] for layer in report["layers"]]
    print(f"model      {report['model']} ({report['source']})")
    print(f"layers     {len(ops)} ({', '.join(sorted(set(ops)))})")
    for kind in ("inputs", "outputs"):
        for t in report[kind]:
            print(f"{kind[:-1]:<10} {t['name']}: {t['dtype']} {t['shape']}")
    print(f"arena      {_format_bytes(report['arena_bytes'])}")
    if report.get("state_bytes"):
        print(f"state      {_format_bytes(report['state_bytes'])} (kept between invocations, "
              f"reset by {report['model']}_reset())")
    print(f"weights    {_format_bytes(report['weight_bytes'])} "
          f"(+ {_format_bytes(report['param_bytes'])} of requantization parameters)")
    print(f"MACs       {report['macs']:,}")
    versions = [f for f in report.get("target_sources", []) if f not in report["c_sources"]]
    if versions:
        names = ", ".join(Path(f).stem for f in versions)
        print(f"kernels    {names}: the {report['target']} versions "
              f"({', '.join(sorted({f.split('/')[2] for f in versions}))})")
        for folder, paths in report.get("kernel_paths", {}).items():
            left_out = [p for p, on in paths.items() if not on]
            if left_out:
                print(f"paths      left out of {folder}/ (te_paths.h, none of the layers "
                      f"takes them): {', '.join(left_out)}")


def cmd_compile(args) -> int:
    import tinyedge
    from tinyedge.errors import VerificationError
    from tinyedge.verify import verify

    model = tinyedge.compile(args.model, args.output, target=args.target, name=args.name,
                             ram_limit=args.ram_limit)
    _print_summary(model.report)
    print(f"written    {Path(args.output)}/ ({model.name}.h, {model.name}.c, "
          f"{model.name}_weights.c, CMakeLists.txt, report.json, kernels/)")
    if args.verify:
        problems = verify(model, Path(args.model).read_bytes(), args.verify, seed=args.seed)
        if problems:
            for line in problems[:50]:
                print(f"  {line}")
            if len(problems) > 50:
                print(f"  ... and {len(problems) - 50} more")
            raise VerificationError(f"{len(problems)} differing values against TFLite Micro "
                                    f"over {args.verify} random inputs")
        total = sum(int(np.prod(o["shape"])) for o in model.outputs) * args.verify
        print(f"verified   {args.verify} random inputs against TFLite Micro: "
              f"0 of {total:,} output values differ")
    return 0


def cmd_run(args) -> int:
    import tinyedge
    from tinyedge.errors import TinyEdgeError

    model = tinyedge.load(args.folder)
    if len(args.input) != len(model.inputs):
        raise TinyEdgeError(f"{model.name} takes {len(model.inputs)} inputs; pass --input once "
                            f"for each (got {len(args.input)})")
    inputs = []
    for path in args.input:
        try:
            inputs.append(np.load(path, allow_pickle=False))
        except (OSError, ValueError) as exc:
            raise TinyEdgeError(f"cannot read {path} as a .npy array: {exc}") from None
    outputs = model.run(*inputs)
    for spec, out in zip(model.outputs, outputs):
        line = f"output {spec['name']}: {out.dtype} {list(out.shape)}"
        if out.size <= 32:
            line += f" = {out.reshape(-1).tolist()}"
        if out.size > 1:
            line += f" (argmax {int(np.argmax(out))})"
        print(line)
    if args.output:
        np.savez(args.output, **{f"output_{i}": o for i, o in enumerate(outputs)})
        print(f"written    {args.output}")
    return 0


def cmd_inspect(args) -> int:
    from tinyedge.api import _read_model, import_model, lower_graph
    from tinyedge.planner.schedule import plan_best_schedule

    data, name = _read_model(args.model)
    graph, plan = plan_best_schedule(import_model(data, name))
    calls = {layer.index: layer.call for layer in lower_graph(graph)}
    print(f"model {name}: {len(graph.nodes)} layers")
    if graph.folded:
        kinds = sorted({node.kind.name for node in graph.folded})
        plural = "s" if len(graph.folded) != 1 else ""
        print(f"  folded {len(graph.folded)} op{plural} at compile time ({', '.join(kinds)})")
    for t in graph.inputs:
        print(f"  input  {t.name}: {t.dtype.numpy_name} {list(t.shape)} {_quant_text(t)}")
    for t in graph.outputs:
        print(f"  output {t.name}: {t.dtype.numpy_name} {list(t.shape)} {_quant_text(t)}")
    print(f"\n{'#':>4}  {'op':<18} {'output':<18} {'MACs':>11} {'live B':>9}  quantization")
    for step, node in enumerate(graph.nodes):
        out = node.outputs[0]
        call = calls.get(node.index)
        print(f"{node.index:>4}  {node.kind.name:<18} {'x'.join(map(str, out.shape)):<18} "
              f"{(call.macs if call else 0):>11,} {plan.live_bytes(step):>9,}  {_quant_text(out)}")
        if call is not None and args.verbose:
            print(f"      {call.summary}")
    if args.plot:
        from tinyedge.plot import write_plot
        write_plot(plan, len(graph.nodes) + 1,
                   f"{name}: arena {plan.arena_size:,} B over {len(graph.nodes)} layers",
                   Path(args.plot))
    print(f"\nmemory plan: arena {plan.arena_size:,} B")
    print(f"{'offset':>8} {'bytes':>8} {'layers':>9}  tensors")
    for buf, group in sorted(zip(plan.buffers, plan.tensors), key=lambda p: p[0].offset):
        print(f"{buf.offset:>8} {buf.size:>8} {buf.first:>4}-{buf.last:<4}  "
              f"{', '.join(t.name for t in group)}")
    return 0


def cmd_ops(args) -> int:
    from tinyedge.ops import NOT_IN_TFLITE_MICRO, registry
    from tinyedge.passes.fold_constants import SUPPORT as FOLDED_SUPPORT

    rows = [(kind.name, module.SUPPORT) for kind, module in registry().items()]
    rows += [(kind.name, f"folded at compile time only: {text}")
             for kind, text in FOLDED_SUPPORT.items()]
    rows += [(name, f"not supported: {why}") for name, why in sorted(NOT_IN_TFLITE_MICRO.items())]
    if args.markdown:
        print("| op | types and constraints |\n|---|---|")
        for name, text in rows:
            print(f"| {name} | {text} |")
    else:
        width = max(len(name) for name, _ in rows)
        for name, text in rows:
            print(f"{name:<{width}}  {text}")
    return 0


def cmd_bench(args) -> int:
    import json

    import tinyedge
    from tinyedge.errors import FirmwareMismatchError
    from tinyedge.firmware import bench, format_bench

    model = tinyedge.load(args.folder)
    try:
        result = bench(model, args.target, seed=args.seed, build_dir=args.build_dir,
                       timeout=args.timeout, opt=f"-{args.opt}",
                       reference_only=args.ref_kernels, clock=args.clock,
                       flash_wait_states=args.flash_wait_states, profile=args.profile)
    except FirmwareMismatchError as exc:
        if args.json:
            print(json.dumps(exc.result))
        raise
    if not args.per_layer:
        del result["layers"]
    print(json.dumps(result) if args.json else format_bench(result, args.per_layer))
    return 0


def cmd_quantize(args) -> int:
    import json

    from tinyedge.api import check_out_file, write_atomic
    from tinyedge.frontend import keras as keras_frontend

    output = Path(args.output or
                  f"{Path(args.model).with_suffix('').name}_{args.activations}.tflite")
    check_out_file(output)
    source = keras_frontend._load_source(args.model)
    data = keras_frontend._quantize(source, args.calibration, args.io_type, quiet=args.quiet,
                                    activations=args.activations)
    write_atomic(output, data)
    print(f"model      {source.name} ({args.model})")
    print("\n".join(keras_frontend.summary(data)))
    print(f"written    {output} ({_format_bytes(len(data))})")
    if args.report is not None:
        samples = args.holdout if args.holdout else args.calibration
        report = keras_frontend.quantization_report(source, data, samples,
                                                    holdout=bool(args.holdout))
        print()
        print(keras_frontend.format_report(report))
        if not args.holdout:
            print("note: no --holdout given; the report uses the calibration samples")
        report_path = Path(args.report if isinstance(args.report, str)
                           else output.with_name(output.stem + "_report.json"))
        write_atomic(report_path, (json.dumps(keras_frontend.report_json(report), indent=2)
                                   + "\n").encode())
        print(f"written    {report_path}")
    return 0


def _quant_text(t) -> str:
    if t.quant is None:
        return ""
    if t.quant.per_channel:
        return f"{len(t.quant.scales)} scales (axis {t.quant.axis})"
    return f"scale {t.quant.scale:.6g} zero point {t.quant.zero_point}"


def parse_size(text: str) -> int:
    """'64K' -> 65536, '1M' -> 1048576, '20000' -> 20000 (K and M are binary; KB, KiB too)."""
    match = re.fullmatch(r"(\d+)\s*([KM]?)(I?B)?", text.strip().upper())
    if match is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not a size (examples: 64K, 1M, 20000)")
    return int(match.group(1)) * {"": 1, "K": 1024, "M": 1024 * 1024}[match.group(2)]


def non_negative_int(text: str) -> int:
    """A count or a seed: a whole number from 0 up."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number from 0 up")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds above 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    from tinyedge import __version__
    from tinyedge.targets import TARGETS

    parser = argparse.ArgumentParser(
        prog="tinyedge", description="Compile INT8 TFLite models into plain C99.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tinyedge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("compile", help="compile a .tflite model into C sources")
    p.add_argument("model", help="a full-integer .tflite model")
    p.add_argument("-o", "--output", required=True,
                   help="output folder: new, empty, or an earlier output (replaced)")
    p.add_argument("--target", default="generic", choices=sorted(TARGETS))
    p.add_argument("--name", help="C name prefix (default: from the file name)")
    p.add_argument("--ram-limit", type=parse_size, metavar="SIZE",
                   help="fail if the arena needs more RAM than this (e.g. 64K, 1M, 20000)")
    p.add_argument("--verify", type=non_negative_int, default=0, metavar="N",
                   help="run N seeded random inputs against TFLite Micro and report differences")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of --verify's inputs")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("run", help="run a compiled model on the host")
    p.add_argument("folder", help="a folder written by `tinyedge compile`")
    p.add_argument("--input", action="append", default=[], metavar="X.npy",
                   help="one .npy array per model input, in order")
    p.add_argument("--output", metavar="OUT.npz", help="save the outputs")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("inspect", help="print layers, shapes, quantization and the memory plan")
    p.add_argument("model")
    p.add_argument("-v", "--verbose", action="store_true", help="print each layer's parameters")
    p.add_argument("--plot", metavar="MEM.svg", help="draw the memory plan (buffers over layers)")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("ops", help="print the supported ops and their constraints")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.set_defaults(func=cmd_ops)

    from tinyedge.firmware import BOARDS, DEFAULT_TIMEOUT, OPT_LEVELS
    p = sub.add_parser("bench", help="build, run and measure a compiled model on an emulated "
                                     "Cortex-M (QEMU)")
    p.add_argument("folder", help="a folder written by `tinyedge compile`")
    p.add_argument("--target", default="cortex-m4", choices=sorted(BOARDS))
    p.add_argument("--per-layer", action="store_true", help="also give instructions per layer")
    p.add_argument("--profile", action="store_true",
                   help="also give instructions and cycles per function (the costliest 15)")
    p.add_argument("--json", action="store_true", help="print every figure as one JSON object")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the random inputs")
    p.add_argument("--opt", default="O2", choices=[o[1:] for o in OPT_LEVELS],
                   help="optimization level of the firmware build (default O2)")
    p.add_argument("--timeout", type=positive_seconds, default=DEFAULT_TIMEOUT,
                   metavar="SECONDS",
                   help=f"give up on QEMU after this long (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--build-dir", metavar="DIR",
                   help="keep the firmware sources, ELF and map file here")
    p.add_argument("--ref-kernels", action="store_true",
                   help="build the reference kernels even where the target has optimized ones")
    p.add_argument("--clock", default="100MHz", metavar="FREQ",
                   help="core clock for the latency estimate, e.g. 80MHz or 4.8e7 "
                        "(default 100MHz)")
    p.add_argument("--flash-wait-states", type=int, default=0, metavar="N",
                   help="flash wait states of the part at that clock (default 0; "
                        "docs/cycles.md)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("quantize", help="quantize a float Keras model to a full-integer .tflite")
    p.add_argument("model", help="a .keras or .h5 file, or a SavedModel folder")
    p.add_argument("--calibration", required=True, metavar="DATA.npy",
                   help="representative inputs, first axis = samples (.npz for several inputs)")
    p.add_argument("-o", "--output", metavar="OUT.tflite",
                   help="output file (default: MODEL_int8.tflite or MODEL_int16.tflite in "
                        "the current folder)")
    p.add_argument("--activations", default="int8", choices=["int8", "int16"],
                   help="int8, or int16 for TFLite's 16x8 scheme (int16 activations, int8 "
                        "weights, int64 biases): more accurate, twice the activation RAM")
    p.add_argument("--io-type", choices=["int8", "uint8", "int16", "float32"],
                   help="type of the model's inputs and outputs (default: the activation "
                        "type; uint8 only with int8, float32 with either)")
    p.add_argument("--report", nargs="?", const=True, metavar="REPORT.json",
                   help="print the quantization report (SQNR per layer, top-1 agreement) and "
                        "write it as JSON (default: OUT_report.json)")
    p.add_argument("--holdout", metavar="HELD.npy",
                   help="held-out samples for --report (default: the calibration samples)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_quantize)
    return parser


def main(argv: list[str] | None = None) -> int:
    from tinyedge.errors import TinyEdgeError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TinyEdgeError as exc:
        print(f"tinyedge: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tinyedge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader stopped early (`tinyedge inspect m.tflite | head`): end
        # quietly, as a Unix tool does on SIGPIPE, with nothing more to flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        # a path given on the command line that cannot be read or written
        # (--output, --plot, --build-dir in a missing or read-only folder)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tinyedge: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
