// The simulator grants and checks the same ACL ids the module generator validates against.
export { ACL_TREE, ACL_PARENTS, isKnownResource, withParents, type AclNode } from '../acl/magento-acl.js';
