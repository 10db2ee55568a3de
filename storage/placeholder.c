typedef int st_placeholder_unused;
