// SPDX-License-Identifier: Apache-2.0
// Runs inside a test container on the GPU machine: adds two vectors on the GPU and checks every
// element against the CPU. Built there with `nvcc -cudart static`, so the only CUDA library it
// needs from the container is the injected driver (libcuda.so.1).
#include <cstdio>
#include <cstdlib>

#define CHECK(call)                                                                      \
        do {                                                                             \
                cudaError_t e_ = (call);                                                 \
                if (e_ != cudaSuccess) {                                                 \
                        fprintf(stderr, "%s: %s\n", #call, cudaGetErrorString(e_));      \
                        return 1;                                                        \
                }                                                                        \
        } while (0)

__global__ void add(const float *a, const float *b, float *c, int n)
{
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n)
                c[i] = a[i] + b[i];
}

int main()
{
        const int n = 1 << 20;
        float *a = (float *)malloc(n * sizeof(float)), *b = (float *)malloc(n * sizeof(float));
        float *c = (float *)malloc(n * sizeof(float));
        float *da, *db, *dc;
        int dev = 0, count = 0;
        cudaDeviceProp prop;
        char uuid[64];

        srand(12345);
        for (int i = 0; i < n; i++) {
                a[i] = (float)rand() / RAND_MAX;
                b[i] = (float)rand() / RAND_MAX;
                c[i] = -1.0f; // poison: every element must be written
        }
        CHECK(cudaGetDeviceCount(&count));
        CHECK(cudaGetDevice(&dev));
        CHECK(cudaGetDeviceProperties(&prop, dev));
        // nvidia-smi's form: GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx
        {
                const unsigned char *u = (const unsigned char *)prop.uuid.bytes;
                int o = snprintf(uuid, sizeof(uuid), "GPU-");
                for (int i = 0; i < 16; i++)
                        o += snprintf(uuid + o, sizeof(uuid) - o, "%s%02x",
                                      i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", u[i]);
        }
        CHECK(cudaMalloc(&da, n * sizeof(float)));
        CHECK(cudaMalloc(&db, n * sizeof(float)));
        CHECK(cudaMalloc(&dc, n * sizeof(float)));
        CHECK(cudaMemcpy(da, a, n * sizeof(float), cudaMemcpyHostToDevice));
        CHECK(cudaMemcpy(db, b, n * sizeof(float), cudaMemcpyHostToDevice));
        add<<<(n + 255) / 256, 256>>>(da, db, dc, n);
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        CHECK(cudaMemcpy(c, dc, n * sizeof(float), cudaMemcpyDeviceToHost));
        for (int i = 0; i < n; i++) {
                if (c[i] != a[i] + b[i]) {
                        fprintf(stderr, "mismatch at %d: %f != %f\n", i, c[i], a[i] + b[i]);
                        return 1;
                }
        }
        printf("vecadd ok: %d elements on %s (sm_%d%d) %s, %d device(s) visible\n", n, prop.name,
               prop.major, prop.minor, uuid, count);
        return 0;
}
