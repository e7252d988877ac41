// errno values the update path returns (include/uapi/asm-generic/errno-base.h, errno.h).
export const ENOENT = 2;
export const EIO = 5;
export const ENXIO = 6;
export const ENOMEM = 12;
export const EBUSY = 16;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EOPNOTSUPP = 95;
export const ECANCELED = 125;
