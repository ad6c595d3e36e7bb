# gridhub_add_plugin(<kind>_<name> SOURCES ... [LIBS ...])
#
# Builds one in-tree plugin twice from the same sources:
#   gridhub_plugin_<name>  a static library the hub registers explicitly (no static constructors), and
#   <name>                 a loadable module in build/lib/gridhub/plugins/<name>.so exporting
#                          gridhub_plugin_descriptor() through module.cpp (GRIDHUB_PLUGIN_MODULE).
# The sources must define `const gridhub::plugin::Descriptor* <name>_descriptor() noexcept;`.
# Each plugin has its own option GRIDHUB_PLUGIN_<NAME> (default ON).
function(gridhub_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  string(TOUPPER "${name}" upper)
  option(GRIDHUB_PLUGIN_${upper} "Build the ${name} plugin" ON)
  if(NOT GRIDHUB_PLUGIN_${upper})
    return()
  endif()
  add_library(gridhub_plugin_${name} STATIC ${P_SOURCES})
  add_library(gridhub::plugin_${name} ALIAS gridhub_plugin_${name})
  target_include_directories(gridhub_plugin_${name} PUBLIC include)
  target_link_libraries(gridhub_plugin_${name} PUBLIC gridhub::plugin_api PRIVATE ${P_LIBS})
  set_target_properties(gridhub_plugin_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)

  set(_module_src ${CMAKE_CURRENT_BINARY_DIR}/${name}_module.cpp)
  file(CONFIGURE OUTPUT ${_module_src} CONTENT
"// Generated: the loadable-module entry point of the ${name} plugin.
#include \"gridhub/plugin/api.hpp\"
const gridhub::plugin::Descriptor* ${name}_descriptor() noexcept;
GRIDHUB_PLUGIN_MODULE(${name}_descriptor)
")
  add_library(${name} MODULE ${_module_src})
  target_link_libraries(${name} PRIVATE gridhub_plugin_${name})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib/gridhub/plugins
    CXX_VISIBILITY_PRESET hidden)
  set_property(GLOBAL APPEND PROPERTY GRIDHUB_PLUGINS ${name})
endfunction()
