//! The hot loops of fused kernels, compiled twice: for the baseline CPU
//! and, chosen at run time, for AVX2 (four `f64` per instruction instead
//! of two). Both are the same Rust code with the same closures inlined,
//! so results are bit-identical; only the instructions differ (Rust never
//! contracts `a * b + c` into an FMA, whatever the target features).
//!
//! Measured on `((2*x + 1)**3).sum()` with `x = arange(n)/n` (the
//! `array_expr` example), the division dominates and AVX2's wider
//! `vdivpd` is what pays for this module's `unsafe`.

/// Whether the AVX2 versions can run here.
#[cfg(target_arch = "x86_64")]
#[inline]
fn avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// Defines `$name`, which runs `$body` compiled for AVX2 when the CPU has
/// it and for the baseline otherwise.
macro_rules! twice {
    (
        $(#[$doc:meta])*
        fn $name:ident<$($g:ident),*>($($arg:ident: $ty:ty),*) -> $ret:ty
        where { $($bounds:tt)* }
        $body:block
    ) => {
        $(#[$doc])*
        #[inline]
        pub(crate) fn $name<$($g),*>($($arg: $ty),*) -> $ret
        where $($bounds)*
        {
            #[inline(always)]
            fn body<$($g),*>($($arg: $ty),*) -> $ret
            where $($bounds)*
            $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn wide<$($g),*>($($arg: $ty),*) -> $ret
                where $($bounds)*
                {
                    body($($arg),*)
                }
                if avx2() {
                    // SAFETY: the CPU has AVX2 (checked just above), the
                    // only requirement of a function compiled for it.
                    return unsafe { wide($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

twice! {
    /// `out[i] = f(out[i])`.
    fn map_in_place<T, F>(out: &mut [T], f: &F) -> ()
    where { T: Copy, F: Fn(T) -> T }
    {
        for v in out.iter_mut() {
            *v = f(*v);
        }
    }
}

twice! {
    /// `out[i] = f(out[i], b[i])`.
    fn zip_in_place<T, F>(out: &mut [T], b: &[T], f: &F) -> ()
    where { T: Copy, F: Fn(T, T) -> T }
    {
        for (o, &y) in out.iter_mut().zip(b) {
            *o = f(*o, y);
        }
    }
}

twice! {
    /// `out[i] = f(src[i])`.
    fn convert_into<T, U, F>(src: &[T], out: &mut [U], f: &F) -> ()
    where { T: Copy, F: Fn(T) -> U }
    {
        for (o, &v) in out.iter_mut().zip(src) {
            *o = f(v);
        }
    }
}

twice! {
    /// `out[i] = from_f64(start + (base + iota[i]) * step)`.
    fn ramp<T>(out: &mut [T], iota: &[f64], start: f64, base: f64, step: f64) -> ()
    where { T: crate::element::Number }
    {
        for (o, i) in out.iter_mut().zip(iota) {
            *o = T::from_f64(start + (base + i) * step);
        }
    }
}

twice! {
    /// The sum of `xs` in eight running sums (independent additions that
    /// vectorize), added pairwise at the end.
    fn sum_lanes<T>(xs: &[T]) -> T
    where { T: crate::element::Number }
    {
        let mut lanes = [T::ZERO; 8];
        let mut it = xs.chunks_exact(8);
        for c in &mut it {
            for (l, &x) in lanes.iter_mut().zip(c) {
                *l = *l + x;
            }
        }
        for &x in it.remainder() {
            lanes[0] = lanes[0] + x;
        }
        ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
    }
}

twice! {
    /// `out[j] = f(start + j)`: the generators of the global index.
    fn gen_into<T, F>(out: &mut [T], start: u64, f: &F) -> ()
    where { F: Fn(u64) -> T }
    {
        for (j, o) in out.iter_mut().enumerate() {
            *o = f(start + j as u64);
        }
    }
}
