// Board support for Arm's MPS2+ AN500 (Cortex-M7), the board qemu-system-arm
// emulates as `-M mps2-an500`: the vector table, the reset handler (FPU on,
// .data copied from flash, .bss zeroed, static constructors) and output over
// semihosting (run with `-semihosting`; on hardware, a debugger serves it).
#include <stdint.h>
#include <string.h>

#include "board.h"

extern "C" {
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern uint8_t __state_flash_start[], __state_flash_end[];
extern void (*__init_array_start[])(), (*__init_array_end[])();
void Reset_Handler();
void Fault_Handler();
}

namespace {
// Semihosting: bkpt 0xAB with the operation in r0 and its argument in r1.
int Semihost(int op, const void* arg) {
  register int r0 asm("r0") = op;
  register const void* r1 asm("r1") = arg;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}
constexpr int kWrite0 = 0x04, kExit = 0x18;
constexpr uintptr_t kApplicationExit = 0x20026, kRunTimeErrorUnknown = 0x20023;
}  // namespace

void BoardPrint(const char* text) { Semihost(kWrite0, text); }

FlashRegion BoardStateFlash() {
  return {__state_flash_start, static_cast<size_t>(__state_flash_end - __state_flash_start)};
}

void BoardExit(bool ok) {
  Semihost(kExit, reinterpret_cast<const void*>(ok ? kApplicationExit : kRunTimeErrorUnknown));
  for (;;) {
  }
}

extern "C" void Reset_Handler() {
  // Full access to CP10/CP11 (the FPU) before any floating-point instruction.
  volatile uint32_t& cpacr = *reinterpret_cast<volatile uint32_t*>(0xE000ED88);
  cpacr = cpacr | (0xFu << 20);
  asm volatile("dsb\n isb" ::: "memory");
  memcpy(&_sdata, &_sidata, static_cast<size_t>(&_edata - &_sdata) * 4);
  memset(&_sbss, 0, static_cast<size_t>(&_ebss - &_sbss) * 4);
  for (void (**ctor)() = __init_array_start; ctor != __init_array_end; ++ctor) (*ctor)();
  BoardExit(FirmwareMain() == 0);
}

extern "C" void Fault_Handler() {
  BoardPrint("fault\n");
  BoardExit(false);
}

// Initial stack pointer, reset, then NMI, HardFault, MemManage, BusFault, UsageFault.
__attribute__((section(".isr_vector"), used)) void* const g_vectors[16] = {
    &_estack, reinterpret_cast<void*>(Reset_Handler), reinterpret_cast<void*>(Fault_Handler),
    reinterpret_cast<void*>(Fault_Handler), reinterpret_cast<void*>(Fault_Handler),
    reinterpret_cast<void*>(Fault_Handler), reinterpret_cast<void*>(Fault_Handler)};
