/* placeholder */
typedef int placeholder_conn;
