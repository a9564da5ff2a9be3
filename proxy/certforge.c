/* placeholder */
typedef int placeholder_certforge;
