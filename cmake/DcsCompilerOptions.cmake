# Warnings and sanitizers shared by every target of the project (not by consumers).

function(dcs_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Woverloaded-virtual
                                           # GCC 12 warns on designated initializers that omit
                                           # members, the intended way to fill request structs.
                                           -Wno-missing-field-initializers)
  # GCC 12 at -O2 reports impossible overlaps inside std::string concatenation (GCC bug 105329):
  # -Wrestrict is off there: its reports on this code are all of that kind.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(DCS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(DCS_SANITIZERS)
  add_compile_options(-fsanitize=${DCS_SANITIZERS} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${DCS_SANITIZERS})
endif()
