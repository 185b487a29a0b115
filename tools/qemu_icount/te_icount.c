/* te_icount: a QEMU TCG plugin that counts executed guest instructions exactly,
 * and estimates Cortex-M cycles, between two marker functions of a tinyedge
 * firmware image, and per layer.
 *
 * Built by tinyedge/firmware.py with the host gcc (Debian's QEMU ships no plugin
 * header, so the few API functions used here are declared below, as in QEMU
 * 7.2's include/qemu/qemu-plugin.h, plugin API version 1).
 *
 * One argument, cfg=FILE, names a text file of lines "key value":
 *   out   FILE          where the counts are written (at the stop marker)
 *   start ADDR          first instruction of the start marker function
 *   stop  ADDR          first instruction of the stop marker function
 *   scope LOW HIGH      address range of the caller of the layers (<model>_invoke)
 *   entry ADDR          first instruction of a kernel function (repeatable)
 * and, for the cycle estimate (tinyedge/cycles.py writes them and owns the
 * numbers; docs/cycles.md describes the model):
 *   cost CLASS N        cycles of an instruction class (the names in class_names)
 *   refill N            pipeline refill after a taken branch (the TRM's P)
 *   pipelined_saving N  cycles saved by a load/store pipelined behind a load
 *   address_interlock N cycles a load/store waits for an address register written
 *                       by the data-processing instruction just before it
 *   dual_issue 0|1      pair adjacent single-cycle instructions (Cortex-M7)
 *   flash LOW HIGH      the flash address range
 *   wait_states N       flash wait states per line fetched into a cache
 *   icache LINES BYTES  instruction cache in front of flash (direct-mapped)
 *   dcache LINES BYTES  data cache in front of flash (direct-mapped)
 * and, for a profile of the code between the markers:
 *   profile LOW HIGH FILE  write "ADDR COUNT CYCLES" for every instruction in
 *                          [LOW, HIGH) that ran (hex address, decimal counts;
 *                          a taken branch's refill and a data load's flash wait
 *                          states are charged to the instruction that caused
 *                          them, an instruction fetch's to the line's address)
 * Counting: every executed instruction adds one (an inline add, no callback)
 * to the instruction count, and its static cost (decoded from its bytes when
 * it is translated) to the cycle count. A taken branch is seen when a
 * translation block starts anywhere but at the fall-through address of the
 * block executed before it, and adds the refill.
 * total = count at the stop marker - count at the start marker.
 * A layer opens when a kernel entry is reached while no layer is open, and
 * closes at the next instruction executed inside the scope: a layer is one
 * kernel call from invoke, with everything that kernel calls.
 * The output lists "total N", "cycles N", one "layer N" and one
 * "layer_cycles N" per kernel call in order, and "starts N" (how many times
 * the start marker ran).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the subset of the QEMU plugin API (version 1) used here ---- */
typedef uint64_t qemu_plugin_id_t;
typedef uint32_t qemu_plugin_meminfo_t;
typedef struct qemu_info_t qemu_info_t; /* opaque here: never read */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_mem_rw { QEMU_PLUGIN_MEM_R = 1, QEMU_PLUGIN_MEM_W, QEMU_PLUGIN_MEM_RW };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                                          uint64_t vaddr, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr, uint64_t imm);
bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw,
                                      void *userdata);

#define TE_EXPORT __attribute__((visibility("default")))
TE_EXPORT int qemu_plugin_version = 1;
TE_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                  char **argv);

/* ---- instruction classes: the rows of the TRM's instruction timing table ---- */
enum insn_class {
    C_ALU,           /* data processing, DSP/SIMD, saturation, extend, bit field, IT, hints */
    C_BRANCH,        /* B, BL, BX, BLX, CBZ, CBNZ: the refill is added when taken */
    C_MUL,           /* MUL */
    C_MLA,           /* MLA, MLS */
    C_MULL,          /* SMULL, UMULL */
    C_MLAL,          /* SMLAL, UMLAL, UMAAL, SMLALD, SMLSLD, SMLALxy */
    C_DSP_MUL,       /* SMLAD, SMUAD, SMLABB, SMULBB, SMLAWB, SMMLA, USAD8 ... */
    C_DIV,           /* SDIV, UDIV */
    C_LOAD,          /* one LDR/LDRB/LDRH/LDRSB/LDRSH/LDREX/PLD */
    C_STORE,         /* one STR/STRB/STRH/STREX */
    C_LOAD_STORE_DOUBLE,   /* LDRD, STRD */
    C_LOAD_STORE_MULTIPLE, /* LDM, STM, PUSH, POP: cost + one per register */
    C_TABLE_BRANCH,  /* TBB, TBH */
    C_FP,            /* other floating point */
    C_FP_MAC,        /* VMLA, VMLS, VNMLA, VNMLS, VFMA, VFMS, VFNMA, VFNMS */
    C_FP_DIV,        /* VDIV, VSQRT */
    C_FP_LOAD_STORE, /* VLDR, VSTR */
    C_FP_LOAD_STORE_MULTIPLE, /* VLDM, VSTM, VPUSH, VPOP: cost + one per word */
    N_CLASSES
};

static const char *const class_names[N_CLASSES] = {
    "alu", "branch", "mul", "mla", "mull", "mlal", "dsp_mul", "div", "load", "store",
    "load_store_double", "load_store_multiple", "table_branch", "fp", "fp_mac", "fp_div",
    "fp_load_store", "fp_load_store_multiple",
};

#define NO_REG 0xFF

struct insn_info {
    enum insn_class cls;
    unsigned words; /* registers (words) moved by a multiple load/store */
    uint8_t rt, rn, rm; /* loads/stores: data, base and offset register */
    uint8_t rd, rd2;    /* data processing: the registers written */
};

static unsigned popcount16(unsigned v)
{
    return (unsigned)__builtin_popcount(v & 0xFFFFu);
}

static struct insn_info single(enum insn_class cls, unsigned rt, unsigned rn, unsigned rm)
{
    struct insn_info info = {cls, 0, (uint8_t)rt, (uint8_t)rn, (uint8_t)rm, NO_REG, NO_REG};
    return info;
}

static struct insn_info plain(enum insn_class cls)
{
    return single(cls, NO_REG, NO_REG, NO_REG);
}

static struct insn_info multiple(enum insn_class cls, unsigned words, unsigned rn)
{
    struct insn_info info = single(cls, NO_REG, rn, NO_REG);
    info.words = words;
    return info;
}

/* The register a 16-bit data-processing instruction writes, if any. */
static unsigned destination16(unsigned hw)
{
    if ((hw & 0xE000u) == 0x2000u) { /* MOV, CMP, ADD, SUB with imm8 */
        return (hw & 0x1800u) == 0x0800u ? NO_REG : (hw >> 8) & 7u;
    }
    if ((hw & 0xC000u) == 0x0000u) { /* shifts, ADD/SUB with register or imm3 */
        return hw & 7u;
    }
    if ((hw & 0xFC00u) == 0x4000u) { /* TST, CMP, CMN write no register */
        unsigned op = (hw >> 6) & 0xFu;
        return (op == 8u || op == 10u || op == 11u) ? NO_REG : hw & 7u;
    }
    if ((hw & 0xFC00u) == 0x4400u) { /* ADD, MOV of high registers (not CMP) */
        return (hw & 0x0300u) == 0x0100u ? NO_REG : (((hw >> 4) & 8u) | (hw & 7u));
    }
    if ((hw & 0xF000u) == 0xA000u) { /* ADR, ADD Rd, SP, #imm */
        return (hw >> 8) & 7u;
    }
    if ((hw & 0xFF00u) == 0xB000u) { /* ADD/SUB SP, SP, #imm */
        return 13;
    }
    if ((hw & 0xFF00u) == 0xB200u || (hw & 0xFF00u) == 0xBA00u) { /* extend, reverse */
        return hw & 7u;
    }
    return NO_REG;
}

static bool is_data_processing(enum insn_class cls)
{
    return cls == C_ALU || cls == C_MUL || cls == C_MLA || cls == C_MULL || cls == C_MLAL
           || cls == C_DSP_MUL || cls == C_DIV;
}

static bool is_load_store(enum insn_class cls)
{
    return cls == C_LOAD || cls == C_STORE || cls == C_LOAD_STORE_DOUBLE
           || cls == C_LOAD_STORE_MULTIPLE || cls == C_TABLE_BRANCH || cls == C_FP_LOAD_STORE
           || cls == C_FP_LOAD_STORE_MULTIPLE;
}

/* A 16-bit Thumb instruction (ARMv7-M ARM, A5.2). */
static struct insn_info classify16(unsigned hw)
{
    unsigned low3 = hw & 7u, mid3 = (hw >> 3) & 7u, high3 = (hw >> 6) & 7u;
    if ((hw & 0xFFC0u) == 0x4340u) {
        return plain(C_MUL);
    }
    if ((hw & 0xFF00u) == 0x4700u) {
        return plain(C_BRANCH); /* BX, BLX */
    }
    if ((hw & 0xFC00u) == 0x4400u && (hw & 0x0300u) != 0x0100u
        && (((hw >> 4) & 8u) | low3) == 15u) {
        return plain(C_BRANCH); /* ADD PC / MOV PC */
    }
    if ((hw & 0xF800u) == 0x4800u) {
        return single(C_LOAD, (hw >> 8) & 7u, 15, NO_REG); /* LDR literal */
    }
    if ((hw & 0xF000u) == 0x5000u) {
        unsigned op = (hw >> 9) & 7u; /* STR STRH STRB LDRSB LDR LDRH LDRB LDRSH */
        return single(op < 3 ? C_STORE : C_LOAD, low3, mid3, high3);
    }
    if ((hw & 0xE000u) == 0x6000u || (hw & 0xF000u) == 0x8000u) {
        return single((hw & 0x0800u) ? C_LOAD : C_STORE, low3, mid3, NO_REG);
    }
    if ((hw & 0xF000u) == 0x9000u) {
        return single((hw & 0x0800u) ? C_LOAD : C_STORE, (hw >> 8) & 7u, 13, NO_REG);
    }
    if ((hw & 0xF500u) == 0xB100u) {
        return plain(C_BRANCH); /* CBZ, CBNZ */
    }
    if ((hw & 0xF600u) == 0xB400u) {
        /* PUSH (with LR) / POP (with PC) */
        return multiple(C_LOAD_STORE_MULTIPLE, popcount16(hw & 0x1FFu), 13);
    }
    if ((hw & 0xF000u) == 0xC000u) {
        return multiple(C_LOAD_STORE_MULTIPLE, popcount16(hw & 0xFFu), (hw >> 8) & 7u);
    }
    if ((hw & 0xF000u) == 0xD000u || (hw & 0xF800u) == 0xE000u) {
        return plain(C_BRANCH); /* B<cond>, SVC, UDF, B */
    }
    return plain(C_ALU);
}

/* Floating point (coprocessor space, ARMv7-M ARM A6.3/A6.4). */
static struct insn_info classify_fp(unsigned hw1, unsigned hw2)
{
    if ((hw1 & 0x0E00u) == 0x0C00u && (hw1 & 0x01A0u) != 0) {
        if ((hw1 & 0x0120u) == 0x0100u) {
            return single(C_FP_LOAD_STORE, NO_REG, hw1 & 0xFu, NO_REG); /* VLDR, VSTR */
        }
        if ((hw1 & 0x01E0u) != 0x0040u) {
            return multiple(C_FP_LOAD_STORE_MULTIPLE, hw2 & 0xFFu, hw1 & 0xFu);
        }
        return plain(C_FP); /* VMOV of two core registers */
    }
    if ((hw1 & 0x0F00u) == 0x0E00u && (hw2 & 0x0010u) == 0) {
        unsigned opc1 = (hw1 >> 4) & 0xBu, opc2 = hw1 & 0xFu, opc3 = (hw2 >> 6) & 3u;
        if (opc1 == 0x8u || (opc1 == 0xBu && opc2 == 1u && opc3 == 3u)) {
            return plain(C_FP_DIV);
        }
        if (opc1 <= 1u || opc1 == 0x9u || opc1 == 0xAu) {
            return plain(C_FP_MAC); /* VMLA/VMLS/VNMLA/VNMLS/VFNMA/VFNMS/VFMA/VFMS */
        }
    }
    return plain(C_FP);
}

/* A 32-bit Thumb-2 instruction (ARMv7-M ARM, A5.3). */
static struct insn_info classify32(unsigned hw1, unsigned hw2)
{
    unsigned op1 = (hw1 >> 11) & 3u, rn = hw1 & 0xFu, rt = hw2 >> 12;
    if (op1 == 1u) {
        if ((hw1 & 0x0640u) == 0x0000u) {
            return multiple(C_LOAD_STORE_MULTIPLE, popcount16(hw2), rn); /* LDM, STM, PUSH, POP */
        }
        if ((hw1 & 0x0640u) == 0x0040u) {
            if ((hw1 & 0xFFF0u) == 0xE8D0u && (hw2 & 0xFFE0u) == 0xF000u) {
                return single(C_TABLE_BRANCH, NO_REG, rn, hw2 & 0xFu);
            }
            if ((hw1 & 0x0120u) == 0) {
                /* LDREX, STREX (and the byte/halfword forms) */
                return single((hw1 & 0x0010u) ? C_LOAD : C_STORE, rt, rn, NO_REG);
            }
            return single(C_LOAD_STORE_DOUBLE, NO_REG, rn, NO_REG);
        }
        if (hw1 & 0x0400u) {
            return classify_fp(hw1, hw2);
        }
        return plain(C_ALU);
    }
    if (op1 == 2u) {
        if ((hw2 & 0x8000u) && ((hw2 & 0x5000u) != 0 || (hw1 & 0x0380u) != 0x0380u)) {
            return plain(C_BRANCH); /* B, BL, B<cond> */
        }
        return plain(C_ALU);
    }
    /* op1 == 3 */
    if ((hw1 & 0x0600u) == 0x0000u) {
        unsigned rm = ((hw1 & 0x0080u) == 0 && (hw2 & 0x0FC0u) == 0) ? (hw2 & 0xFu) : NO_REG;
        return single((hw1 & 0x0010u) ? C_LOAD : C_STORE, rt, rn, rm);
    }
    if ((hw1 & 0x0780u) == 0x0300u) {
        unsigned op = (hw1 >> 4) & 7u, op2 = (hw2 >> 4) & 3u;
        if (op == 0u) {
            return plain((op2 == 0u && rt == 15u) ? C_MUL : C_MLA);
        }
        return plain(C_DSP_MUL);
    }
    if ((hw1 & 0x0780u) == 0x0380u) {
        unsigned op = (hw1 >> 4) & 7u;
        if (op == 1u || op == 3u) {
            return plain(C_DIV);
        }
        return plain((op == 0u || op == 2u) ? C_MULL : C_MLAL);
    }
    if (hw1 & 0x0400u) {
        return classify_fp(hw1, hw2);
    }
    return plain(C_ALU);
}

/* The width of a Thumb instruction from its first halfword. The size QEMU
 * reports is not used: for an instruction at the end of a page, QEMU 7.2 also
 * records the halfword it reads ahead. */
static size_t thumb_size(const uint8_t *bytes)
{
    return (bytes[1] >> 3) >= 0x1Du ? 4 : 2;
}

static struct insn_info classify(const uint8_t *bytes)
{
    unsigned hw1 = bytes[0] | (unsigned)bytes[1] << 8;
    struct insn_info info;
    if (thumb_size(bytes) == 4) {
        unsigned hw2 = bytes[2] | (unsigned)bytes[3] << 8;
        info = classify32(hw1, hw2);
        if (is_data_processing(info.cls)) {
            /* Rd sits in hw2[11:8] in every 32-bit data-processing and multiply
             * encoding (15: TST, TEQ, CMP, CMN write none); RdLo in hw2[15:12]. */
            unsigned rd = (hw2 >> 8) & 0xFu;
            info.rd = (uint8_t)(rd == 15u ? NO_REG : rd);
            if (info.cls == C_MULL || info.cls == C_MLAL) {
                info.rd2 = (uint8_t)(hw2 >> 12);
            }
        }
    } else {
        info = classify16(hw1);
        if (is_data_processing(info.cls)) {
            info.rd = (uint8_t)destination16(hw1);
        }
    }
    return info;
}

/* ---- the cycle model's parameters (from the cfg file) ---- */
static uint64_t class_cost[N_CLASSES];
static int classes_costed; /* how many classes the cfg file gave a cost */
static uint64_t refill, pipelined_saving, address_interlock, wait_states;
static int dual_issue;
static uint64_t flash_low = 1, flash_high = 0;

/* A direct-mapped cache of flash lines; a miss costs the wait states. */
struct line_cache {
    uint64_t lines, line_bytes;
    uint64_t *tags; /* line number + 1; 0 = empty */
};
static struct line_cache icache, dcache;

static bool cache_miss(struct line_cache *cache, uint64_t addr)
{
    uint64_t line = addr / cache->line_bytes;
    uint64_t *slot;
    if (cache->lines == 0) {
        return true;
    }
    slot = &cache->tags[line % cache->lines];
    if (*slot == line + 1) {
        return false;
    }
    *slot = line + 1;
    return true;
}

/* ---- the counters ---- */
#define MAX_ENTRIES 256
#define MAX_LAYERS 4096

enum event { EV_START = 1, EV_STOP, EV_SCOPE, EV_ENTRY };

static uint64_t count, cycles;
static uint64_t start_addr = UINT64_MAX, stop_addr = UINT64_MAX;
static uint64_t scope_low = 1, scope_high = 0;
static uint64_t entries[MAX_ENTRIES];
static int n_entries;
static char out_path[4096];

static uint64_t started_at, started_cycles, layer_started_at, layer_started_cycles;
static uint64_t layers[MAX_LAYERS], layer_cycles[MAX_LAYERS];
static int n_layers, starts, layer_open, counting;

/* The profile: counts and cycles per halfword of [profile_low, profile_high). */
static uint64_t profile_low = 1, profile_high = 0;
static uint64_t *profile_count, *profile_cycles;
static char profile_path[4096];

/* The profile's cycle counter of the instruction at pc, or a scratch
 * counter when pc is not profiled. */
static uint64_t *profile_slot(uint64_t pc)
{
    static uint64_t unprofiled;
    if (profile_cycles != NULL && pc >= profile_low && pc < profile_high) {
        return &profile_cycles[(pc - profile_low) / 2];
    }
    return &unprofiled;
}

static void write_profile(void)
{
    FILE *f = fopen(profile_path, "w");
    if (f == NULL) {
        return;
    }
    for (uint64_t i = 0; i < (profile_high - profile_low) / 2; i++) {
        if (profile_count[i] != 0 || profile_cycles[i] != 0) {
            fprintf(f, "%" PRIx64 " %" PRIu64 " %" PRIu64 "\n", profile_low + 2 * i,
                    profile_count[i], profile_cycles[i]);
        }
    }
    fclose(f);
}

/* The fall-through address of the block executed last. */
static uint64_t fallthrough;

struct block {
    uint64_t start, end;
    uint64_t *branch_slot; /* the profile slot of the block's last instruction */
};

/* The block that ran last (a taken branch out of it is charged to its end). */
static const struct block *last_block;

static void on_block(unsigned int vcpu_index, void *userdata)
{
    const struct block *b = userdata;
    (void)vcpu_index;
    if (b->start != fallthrough) {
        cycles += refill;
        if (last_block != NULL) {
            *last_block->branch_slot += refill;
        }
    }
    fallthrough = b->end;
    last_block = b;
    if (wait_states != 0 && b->start >= flash_low && b->start < flash_high) {
        for (uint64_t a = b->start - b->start % icache.line_bytes; a < b->end;
             a += icache.line_bytes) {
            if (cache_miss(&icache, a)) {
                cycles += wait_states;
                *profile_slot(a < b->start ? b->start : a) += wait_states;
            }
        }
    }
}

static void on_load(unsigned int vcpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                    void *userdata)
{
    (void)vcpu_index;
    if (!qemu_plugin_mem_is_store(info) && vaddr >= flash_low && vaddr < flash_high
        && cache_miss(&dcache, vaddr)) {
        cycles += wait_states;
        *(uint64_t *)userdata += wait_states;
    }
}

static void on_event(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    switch ((enum event)(uintptr_t)userdata) {
    case EV_START:
        starts++;
        started_at = count;
        started_cycles = cycles;
        if (profile_count != NULL) {
            size_t n = (size_t)((profile_high - profile_low) / 2);
            memset(profile_count, 0, n * sizeof *profile_count);
            memset(profile_cycles, 0, n * sizeof *profile_cycles);
        }
        n_layers = 0;
        layer_open = 0;
        counting = 1;
        break;
    case EV_ENTRY:
        if (counting && !layer_open) {
            layer_open = 1;
            layer_started_at = count;
            layer_started_cycles = cycles;
        }
        break;
    case EV_SCOPE:
        if (layer_open) {
            layer_open = 0;
            if (n_layers < MAX_LAYERS) {
                layers[n_layers] = count - layer_started_at;
                layer_cycles[n_layers] = cycles - layer_started_cycles;
            }
            n_layers++;
        }
        break;
    case EV_STOP:
        if (counting) {
            FILE *f = fopen(out_path, "w");
            counting = 0;
            if (f != NULL) {
                fprintf(f, "total %" PRIu64 "\ncycles %" PRIu64 "\n", count - started_at,
                        cycles - started_cycles);
                for (int i = 0; i < n_layers && i < MAX_LAYERS; i++) {
                    fprintf(f, "layer %" PRIu64 "\nlayer_cycles %" PRIu64 "\n", layers[i],
                            layer_cycles[i]);
                }
                fprintf(f, "layers %d\nstarts %d\n", n_layers, starts);
                fclose(f);
            }
            if (profile_count != NULL) {
                write_profile();
            }
        }
        break;
    }
}

static enum event event_at(uint64_t pc)
{
    if (pc == start_addr) {
        return EV_START;
    }
    if (pc == stop_addr) {
        return EV_STOP;
    }
    if (pc >= scope_low && pc < scope_high) {
        return EV_SCOPE;
    }
    for (int i = 0; i < n_entries; i++) {
        if (entries[i] == pc) {
            return EV_ENTRY;
        }
    }
    return 0;
}

static bool addresses_with(const struct insn_info *insn, unsigned reg)
{
    return reg != NO_REG && (insn->rn == reg || insn->rm == reg);
}

static bool is_single_cycle(enum insn_class cls)
{
    return class_cost[cls] == 1 && cls != C_BRANCH && cls != C_LOAD_STORE_MULTIPLE
           && cls != C_FP_LOAD_STORE_MULTIPLE;
}

/* The static cost of insn given the instruction before it in the same block:
 * a single load or store right behind a single load that does not produce its
 * address is pipelined, and one whose address register the data-processing
 * instruction just before it wrote waits for the register bank (Cortex-M4 TRM,
 * "Load/store timings": no forwarding path); with dual issue,
 * a single-cycle instruction right behind an unpaired single-cycle one is free
 * (the coarse Cortex-M7 model: register dependencies are not checked). */
static uint64_t static_cost(const struct insn_info *insn, const struct insn_info *prev,
                            bool *paired, bool prev_paired)
{
    uint64_t cost = class_cost[insn->cls] + insn->words;
    *paired = false;
    if (prev == NULL) {
        return cost;
    }
    if ((insn->cls == C_LOAD || insn->cls == C_STORE) && prev->cls == C_LOAD
        && prev->rt != 15 && prev->rt != insn->rn && prev->rt != insn->rm
        && cost > pipelined_saving) {
        cost -= pipelined_saving;
    }
    if (is_load_store(insn->cls)
        && (addresses_with(insn, prev->rd) || addresses_with(insn, prev->rd2))) {
        cost += address_interlock;
    }
    if (dual_issue && !prev_paired && is_single_cycle(insn->cls) && is_single_cycle(prev->cls)
        && cost == 1) {
        *paired = true;
        cost = 0;
    }
    return cost;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    struct insn_info prev_info = plain(C_ALU); /* read only once have_prev */
    bool have_prev = false, prev_paired = false;
    struct block *b = malloc(sizeof *b);
    (void)id;
    if (b == NULL) {
        abort();
    }
    b->start = qemu_plugin_tb_vaddr(tb);
    b->end = b->start;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        const uint8_t *bytes = qemu_plugin_insn_data(insn);
        size_t size = thumb_size(bytes);
        enum event ev = event_at(pc);
        struct insn_info info = classify(bytes);
        bool paired;
        uint64_t cost = static_cost(&info, have_prev ? &prev_info : NULL, &paired, prev_paired);
        b->end = pc + size;
        b->branch_slot = profile_slot(pc);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &count, 1);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &cycles,
                                                   cost);
        if (profile_count != NULL && pc >= profile_low && pc < profile_high) {
            qemu_plugin_register_vcpu_insn_exec_inline(
                insn, QEMU_PLUGIN_INLINE_ADD_U64, &profile_count[(pc - profile_low) / 2], 1);
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                       profile_slot(pc), cost);
        }
        /* QEMU 7.2 calls no callback filtered to QEMU_PLUGIN_MEM_R: take both and
         * keep the loads. */
        if (wait_states != 0 && (info.cls == C_LOAD || info.cls == C_LOAD_STORE_DOUBLE
                                 || info.cls == C_LOAD_STORE_MULTIPLE
                                 || info.cls == C_TABLE_BRANCH || info.cls == C_FP_LOAD_STORE
                                 || info.cls == C_FP_LOAD_STORE_MULTIPLE)) {
            qemu_plugin_register_vcpu_mem_cb(insn, on_load, QEMU_PLUGIN_CB_NO_REGS,
                                             QEMU_PLUGIN_MEM_RW, profile_slot(pc));
        }
        if (ev != 0) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_event, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)ev);
        }
        prev_info = info;
        prev_paired = paired;
        have_prev = true;
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, b);
}

static int set_cost(const char *name, unsigned long long n)
{
    for (int c = 0; c < N_CLASSES; c++) {
        if (strcmp(class_names[c], name) == 0) {
            classes_costed += 1;
            class_cost[c] = n;
            return 0;
        }
    }
    return -1;
}

static int set_cache(struct line_cache *cache, unsigned long long lines,
                     unsigned long long line_bytes)
{
    if (line_bytes == 0) {
        return -1;
    }
    cache->lines = lines;
    cache->line_bytes = line_bytes;
    cache->tags = calloc(lines ? lines : 1, sizeof *cache->tags);
    return cache->tags == NULL ? -1 : 0;
}

static int read_config(const char *path)
{
    char key[32], name[32], line[4200];
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "te_icount: cannot open %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long a = 0, b = 0;
        int ok = 1;
        if (sscanf(line, "%31s", key) != 1) {
            continue;
        }
        if (strcmp(key, "out") == 0) {
            ok = sscanf(line, "out %4095[^\n]", out_path) == 1;
        } else if (strcmp(key, "start") == 0 && sscanf(line, "start %llx", &a) == 1) {
            start_addr = a;
        } else if (strcmp(key, "stop") == 0 && sscanf(line, "stop %llx", &a) == 1) {
            stop_addr = a;
        } else if (strcmp(key, "scope") == 0 && sscanf(line, "scope %llx %llx", &a, &b) == 2) {
            scope_low = a;
            scope_high = b;
        } else if (strcmp(key, "entry") == 0 && sscanf(line, "entry %llx", &a) == 1
                   && n_entries < MAX_ENTRIES) {
            entries[n_entries++] = a;
        } else if (strcmp(key, "cost") == 0 && sscanf(line, "cost %31s %llu", name, &a) == 2) {
            ok = set_cost(name, a) == 0;
        } else if (strcmp(key, "refill") == 0 && sscanf(line, "refill %llu", &a) == 1) {
            refill = a;
        } else if (strcmp(key, "pipelined_saving") == 0
                   && sscanf(line, "pipelined_saving %llu", &a) == 1) {
            pipelined_saving = a;
        } else if (strcmp(key, "address_interlock") == 0
                   && sscanf(line, "address_interlock %llu", &a) == 1) {
            address_interlock = a;
        } else if (strcmp(key, "dual_issue") == 0 && sscanf(line, "dual_issue %llu", &a) == 1) {
            dual_issue = a != 0;
        } else if (strcmp(key, "flash") == 0 && sscanf(line, "flash %llx %llx", &a, &b) == 2) {
            flash_low = a;
            flash_high = b;
        } else if (strcmp(key, "wait_states") == 0 && sscanf(line, "wait_states %llu", &a) == 1) {
            wait_states = a;
        } else if (strcmp(key, "icache") == 0 && sscanf(line, "icache %llu %llu", &a, &b) == 2) {
            ok = set_cache(&icache, a, b) == 0;
        } else if (strcmp(key, "dcache") == 0 && sscanf(line, "dcache %llu %llu", &a, &b) == 2) {
            ok = set_cache(&dcache, a, b) == 0;
        } else if (strcmp(key, "profile") == 0
                   && sscanf(line, "profile %llx %llx %4095[^\n]", &a, &b, profile_path) == 3
                   && a < b && b - a <= (1u << 24)) {
            profile_low = a;
            profile_high = b;
            profile_count = calloc((size_t)((b - a) / 2), sizeof *profile_count);
            profile_cycles = calloc((size_t)((b - a) / 2), sizeof *profile_cycles);
            ok = profile_count != NULL && profile_cycles != NULL;
        } else {
            ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "te_icount: bad line in %s: %s", path, line);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    if (out_path[0] == '\0' || start_addr == UINT64_MAX || stop_addr == UINT64_MAX) {
        fprintf(stderr, "te_icount: %s needs out, start and stop\n", path);
        return -1;
    }
    if (classes_costed != 0 && classes_costed != N_CLASSES) {
        fprintf(stderr, "te_icount: %s: a cost for each of the %d classes, once\n", path,
                N_CLASSES);
        return -1;
    }
    if (wait_states != 0 && (icache.tags == NULL || dcache.tags == NULL)) {
        fprintf(stderr, "te_icount: %s: wait_states needs icache and dcache\n", path);
        return -1;
    }
    return 0;
}

int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "cfg=", 4) == 0) {
            if (read_config(argv[i] + 4) != 0) {
                return -1;
            }
            qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
            return 0;
        }
    }
    fprintf(stderr, "te_icount: usage: -plugin te_icount.so,cfg=FILE\n");
    return -1;
}
