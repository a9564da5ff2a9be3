/* placeholder */
typedef int placeholder_proxy;
