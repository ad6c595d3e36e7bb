// A shared library without the gridhub entry symbol.
extern "C" int some_other_library_function() { return 42; }
