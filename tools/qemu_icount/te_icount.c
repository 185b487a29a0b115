/* te_icount: a QEMU TCG plugin that counts executed guest instructions exactly,
 * between two marker functions of a tinyedge firmware image, and per layer.
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
 * Counting: every executed instruction adds one (an inline add, no callback).
 * total = count at the stop marker - count at the start marker.
 * A layer opens when a kernel entry is reached while no layer is open, and
 * closes at the next instruction executed inside the scope: a layer is one
 * kernel call from invoke, with everything that kernel calls.
 * The output lists "total N", one "layer N" per kernel call in order, and
 * "starts N" (how many times the start marker ran).
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
typedef struct qemu_info_t qemu_info_t; /* opaque here: never read */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr, uint64_t imm);

#define TE_EXPORT __attribute__((visibility("default")))
TE_EXPORT int qemu_plugin_version = 1;
TE_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                  char **argv);

/* ---- the counter ---- */
#define MAX_ENTRIES 256
#define MAX_LAYERS 4096

enum event { EV_START = 1, EV_STOP, EV_SCOPE, EV_ENTRY };

static uint64_t count;
static uint64_t start_addr = UINT64_MAX, stop_addr = UINT64_MAX;
static uint64_t scope_low = 1, scope_high = 0;
static uint64_t entries[MAX_ENTRIES];
static int n_entries;
static char out_path[4096];

static uint64_t started_at, layer_started_at, layers[MAX_LAYERS];
static int n_layers, starts, layer_open, counting;

static void on_event(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    switch ((enum event)(uintptr_t)userdata) {
    case EV_START:
        starts++;
        started_at = count;
        n_layers = 0;
        layer_open = 0;
        counting = 1;
        break;
    case EV_ENTRY:
        if (counting && !layer_open) {
            layer_open = 1;
            layer_started_at = count;
        }
        break;
    case EV_SCOPE:
        if (layer_open) {
            layer_open = 0;
            if (n_layers < MAX_LAYERS) {
                layers[n_layers] = count - layer_started_at;
            }
            n_layers++;
        }
        break;
    case EV_STOP:
        if (counting) {
            FILE *f = fopen(out_path, "w");
            counting = 0;
            if (f != NULL) {
                fprintf(f, "total %" PRIu64 "\n", count - started_at);
                for (int i = 0; i < n_layers && i < MAX_LAYERS; i++) {
                    fprintf(f, "layer %" PRIu64 "\n", layers[i]);
                }
                fprintf(f, "layers %d\nstarts %d\n", n_layers, starts);
                fclose(f);
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

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        enum event ev = event_at(qemu_plugin_insn_vaddr(insn));
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &count, 1);
        if (ev != 0) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_event, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)ev);
        }
    }
}

static int read_config(const char *path)
{
    char key[32], line[4200];
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "te_icount: cannot open %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long a = 0, b = 0;
        if (sscanf(line, "%31s", key) != 1) {
            continue;
        }
        if (strcmp(key, "out") == 0) {
            if (sscanf(line, "out %4095[^\n]", out_path) != 1) {
                break;
            }
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
        } else {
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
