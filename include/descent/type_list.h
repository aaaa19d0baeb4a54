// A compile-time list of types, for the lists tools derive everything from
// (descent::Rules, descent::Schedules): tables, flags, help and file formats.
#ifndef DESCENT_TYPE_LIST_H_
#define DESCENT_TYPE_LIST_H_

#include <stddef.h>

namespace descent {

template <class... T>
struct TypeList {
  static constexpr size_t kSize = sizeof...(T);
};

// The position of T in a TypeList.
template <class T, class List>
struct TypeIndex;
template <class T, class... Rest>
struct TypeIndex<T, TypeList<T, Rest...>> {
  static constexpr size_t value = 0;
};
template <class T, class First, class... Rest>
struct TypeIndex<T, TypeList<First, Rest...>> {
  static constexpr size_t value = 1 + TypeIndex<T, TypeList<Rest...>>::value;
};

// f(T{}) for every type of the list, in order.
template <class... T, class F>
constexpr void ForEachType(TypeList<T...>, F&& f) {
  (f(T{}), ...);
}

}  // namespace descent

#endif  // DESCENT_TYPE_LIST_H_
