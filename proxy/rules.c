/* placeholder */
typedef int placeholder_rules;
