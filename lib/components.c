/* SPDX-License-Identifier: Apache-2.0 */
#include "components.h"

#include <string.h>

#include "macros.h"

#define UTILITY NVH_CAP_UTILITY
#define COMPUTE NVH_CAP_COMPUTE
#define COMPUTE_LIB (NVH_CAP_COMPUTE | NVH_CAP_VIDEO) /* video codecs run on the CUDA driver */
#define VIDEO NVH_CAP_VIDEO
#define GRAPHICS (NVH_CAP_GRAPHICS | NVH_CAP_DISPLAY)
#define NGX NVH_CAP_NGX
#define UNVERS NVH_COMPONENT_UNVERSIONED /* not named after the driver version */

/* clang-format off */
static const struct nvh_component_lib libs[] = {
        /* name                       caps         flags   why */
        { "libnvidia-ml",              UTILITY,     0,      "utility: NVML (nvidia-smi)" },
        { "libnvidia-cfg",             UTILITY,     0,      "utility: GPU configuration" },
        { "libnvidia-nscq",            UTILITY,     0,      "utility: NVSwitch query (NSCQ)" },

        { "libcuda",                   COMPUTE_LIB, 0,      "compute: CUDA driver API" },
        { "libcudadebugger",           COMPUTE_LIB, 0,      "compute: CUDA debugger backend" },
        { "libnvidia-opencl",          COMPUTE_LIB, 0,      "compute: OpenCL ICD" },
        { "libnvidia-gpucomp",         COMPUTE_LIB, 0,      "compute: GPU code compiler" },
        { "libnvidia-ptxjitcompiler",  COMPUTE_LIB, 0,      "compute: PTX JIT compiler" },
        { "libnvidia-fatbinaryloader", COMPUTE_LIB, 0,      "compute: fat binary loader (old)" },
        { "libnvidia-allocator",       COMPUTE_LIB, 0,      "compute: GBM buffer allocator" },
        { "libnvidia-compiler",        COMPUTE_LIB, 0,      "compute: OpenCL compiler" },
        { "libnvidia-pkcs11",          COMPUTE_LIB, 0,      "compute: PKCS#11 (OpenSSL 1.1)" },
        { "libnvidia-pkcs11-openssl3", COMPUTE_LIB, 0,      "compute: PKCS#11 (OpenSSL 3)" },
        { "libnvidia-nvvm",            COMPUTE_LIB, 0,      "compute: NVVM JIT (libNVVM)" },
        { "libnvidia-tileiras",        COMPUTE_LIB, 0,      "compute: tile IR JIT assembler" },

        { "libvdpau_nvidia",           VIDEO,       0,      "video: VDPAU driver" },
        { "libnvidia-encode",          VIDEO,       0,      "video: NVENC encoder" },
        { "libnvidia-opticalflow",     VIDEO,       0,      "video: optical flow" },
        { "libnvcuvid",                VIDEO,       0,      "video: NVDEC decoder" },

        { "libnvidia-eglcore",         GRAPHICS,    0,      "graphics: EGL core" },
        { "libnvidia-glcore",          GRAPHICS,    0,      "graphics: OpenGL core" },
        { "libnvidia-tls",             GRAPHICS,    0,      "graphics: OpenGL TLS" },
        { "libnvidia-glsi",            GRAPHICS,    0,      "graphics: OpenGL system layer" },
        { "libnvidia-fbc",             GRAPHICS,    0,      "graphics: framebuffer capture" },
        { "libnvidia-ifr",             GRAPHICS,    0,      "graphics: OpenGL frame readback" },
        { "libnvidia-rtcore",          GRAPHICS,    0,      "graphics: OptiX ray tracing core" },
        { "libnvoptix",                GRAPHICS,    0,      "graphics: OptiX" },
        { "libGLX_nvidia",             GRAPHICS,    0,      "graphics: GLVND GLX vendor" },
        { "libEGL_nvidia",             GRAPHICS,    0,      "graphics: GLVND EGL vendor" },
        { "libGLESv2_nvidia",          GRAPHICS,    0,      "graphics: GLVND GLES 2/3 vendor" },
        { "libGLESv1_CM_nvidia",       GRAPHICS,    0,      "graphics: GLVND GLES 1 vendor" },
        { "libnvidia-glvkspirv",       GRAPHICS,    0,      "graphics: Vulkan SPIR-V compiler" },
        { "libnvidia-cbl",             GRAPHICS,    0,      "graphics: Vulkan BVH builder" },
        { "libnvidia-egl-gbm",         GRAPHICS,    UNVERS, "graphics: EGL GBM platform" },
        { "libnvidia-egl-wayland",     GRAPHICS,    UNVERS, "graphics: EGL Wayland platform" },
        { "libnvidia-egl-wayland2",    GRAPHICS,    UNVERS, "graphics: EGL Wayland platform 2" },
        { "libnvidia-egl-xcb",         GRAPHICS,    UNVERS, "graphics: EGL XCB platform" },
        { "libnvidia-egl-xlib",        GRAPHICS,    UNVERS, "graphics: EGL Xlib platform" },

        { "libnvidia-ngx",             NGX,         0,      "ngx: NGX (DLSS)" },
};

static const struct nvh_component_bin bins[] = {
        { "nvidia-smi",              UTILITY, "utility: system management interface" },
        { "nvidia-debugdump",        UTILITY, "utility: GPU state dump for bug reports" },
        { "nvidia-persistenced",     UTILITY, "utility: persistence daemon" },
        { "nv-fabricmanager",        UTILITY, "utility: NVSwitch fabric manager" },
        { "nvidia-cuda-mps-control", COMPUTE, "compute: MPS control daemon" },
        { "nvidia-cuda-mps-server",  COMPUTE, "compute: MPS server" },
};

/* ctr_base: FOUND = /etc when found under etc, else /usr/share; ETC, SHARE: always there. */
#define FOUND NULL
#define ETC "/etc"
#define SHARE "/usr/share"
static const struct nvh_component_config configs[] = {
        /* rel (last component may be a pattern)    caps      ctr    why */
        { "vulkan/icd.d/nvidia_icd.json",               GRAPHICS, FOUND, "graphics: Vulkan ICD" },
        { "vulkan/implicit_layer.d/nvidia_layers.json", GRAPHICS, FOUND, "graphics: Vulkan layer" },
        { "glvnd/egl_vendor.d/10_nvidia.json",          GRAPHICS, FOUND, "graphics: EGL vendor" },
        { "egl/egl_external_platform.d/*nvidia*.json",  GRAPHICS, FOUND, "graphics: EGL platform" },
        { "OpenCL/vendors/nvidia.icd",                  COMPUTE,  ETC,   "compute: OpenCL ICD" },
        { "nvidia/nvoptix.bin",                         GRAPHICS, SHARE, "graphics: OptiX data" },
};

#define SOCK NVH_COMPONENT_IPC_SOCKET
#define PIPES NVH_COMPONENT_IPC_DIR
static const struct nvh_component_ipc ipcs[] = {
        /* path                               kind   caps     why
                                                 daemon                     control */
        { "/run/nvidia-persistenced/socket",  SOCK,  UTILITY, "utility: persistenced socket",
                                                 "nvidia-persistenced",     NULL },
        { "/run/nvidia-fabricmanager/socket", SOCK,  COMPUTE, "compute: fabric manager socket",
                                                 "nv-fabricmanager",        NULL },
        { "/tmp/nvidia-mps",                  PIPES, COMPUTE, "compute: MPS pipe directory",
                                                 "nvidia-cuda-mps-control", "control" },
};

static const struct nvh_component_firmware firmware[] = {
        { "*.bin", NVH_CAP_UTILITY | NVH_CAP_COMPUTE, "utility,compute: GSP firmware" },
};
/* clang-format on */

const struct nvh_component_lib *
nvh_components_libs(size_t *ret_n)
{
        *ret_n = ARRAY_SIZE(libs);
        return libs;
}

const struct nvh_component_bin *
nvh_components_bins(size_t *ret_n)
{
        *ret_n = ARRAY_SIZE(bins);
        return bins;
}

const struct nvh_component_config *
nvh_components_configs(size_t *ret_n)
{
        *ret_n = ARRAY_SIZE(configs);
        return configs;
}

const struct nvh_component_ipc *
nvh_components_ipcs(size_t *ret_n)
{
        *ret_n = ARRAY_SIZE(ipcs);
        return ipcs;
}

const struct nvh_component_ipc *
nvh_components_find_ipc(const char *ctr_path)
{
        for (size_t i = 0; ctr_path && i < ARRAY_SIZE(ipcs); i++)
                if (streq(ipcs[i].path, ctr_path))
                        return &ipcs[i];
        return NULL;
}

const struct nvh_component_firmware *
nvh_components_firmware(size_t *ret_n)
{
        *ret_n = ARRAY_SIZE(firmware);
        return firmware;
}

const struct nvh_component_lib *
nvh_components_find_lib(const char *name, size_t len)
{
        /* Called for every cache entry (thousands on a desktop): reject on the cheap first. */
        if (len < 4 || name[0] != 'l')
                return NULL;
        for (size_t i = 0; i < ARRAY_SIZE(libs); i++)
                if (strncmp(libs[i].name, name, len) == 0 && libs[i].name[len] == '\0')
                        return &libs[i];
        return NULL;
}
