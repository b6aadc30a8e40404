# Warnings and sanitizers shared by every target of the project (not by consumers).

function(dcs_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Woverloaded-virtual
                                           # GCC 12 warns on designated initializers that omit
                                           # members, the intended way to fill request structs.
                                           -Wno-missing-field-initializers)
  if(DCS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(DCS_SANITIZERS)
  add_compile_options(-fsanitize=${DCS_SANITIZERS} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${DCS_SANITIZERS})
endif()
